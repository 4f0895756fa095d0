"""The package's version, written once: the wheel's metadata reads it from here."""

__version__ = "0.1.0"
