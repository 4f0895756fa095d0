"""One URL policy: Python (upscope_widget.urls) and the browser (js/urls.ts) give one verdict.

The browser side is the real js/urls.ts, bundled by the project's esbuild and run in Chromium,
whose URL parser is the one that decides what the iframe loads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from upscope_widget.urls import check_url, origin_of

ROOT = Path(__file__).parents[2]

# (url, verdict for a watch link, verdict for a page address)
TABLE: list[tuple[str, bool, bool]] = [
    ("https://watch.example.com/x?id=1", True, True),
    ("HTTPS://Watch.Example.COM/x", True, True),
    ("  https://watch.example.com/x  ", True, True),
    ("\thttps://watch.example.com/x\n", True, True),
    ("http://localhost:8888/x", True, True),
    ("http://127.0.0.1/x", True, True),
    ("http://[::1]:9000/x", True, True),
    ("http://shop.example/cart", False, True),
    ("http://localhost.evil.example/", False, True),
    ("http://127.0.0.1.evil.example/", False, True),
    ("http://evil.com\\@localhost/", False, False),
    ("https://good.example\\@evil.example/", False, False),
    ("https://user:pw@watch.example.com/", False, False),
    ("https://user@watch.example.com/", False, False),
    ("https://a.example:abc/", False, False),
    ("https://a.example:99999/", False, False),
    ("https://a\x00b.example/", False, False),
    ("https://a.example/\x07", False, False),
    ("https://a.exa\nmple/", False, False),
    ("https://e.com/a b", False, False),
    ("https://%65vil.com/", True, True),
    ("https://bücher.example/", True, True),
    ("https:watch.example.com/", False, False),
    ("https:/watch.example.com/", False, False),
    ("//watch.example.com/", False, False),
    ("/relative/path", False, False),
    ("watch.example.com", False, False),
    ("javascript:alert(1)", False, False),
    ("JavaScript://%0aalert(1)", False, False),
    ("data:text/html,<b>x</b>", False, False),
    ("file:///etc/passwd", False, False),
    ("blob:https://watch.example.com/1234", False, False),
    ("ftp://files.example/", False, False),
    ("https://", False, False),
    ("https:///w/1", False, False),
    ("http:///localhost/", False, False),
    ("", False, False),
    ("   ", False, False),
    ("https://watch.example.com/" + "a" * 8200, False, False),
    ("https://watch.example.com/" + "a" * 8000, True, True),
]


@pytest.fixture(scope="module")
def url_page(browser):
    bundle = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "esbuild"), str(ROOT / "js" / "urls.ts"),
         "--bundle", "--format=iife", "--global-name=UpscopeUrls"],
        check=True, capture_output=True, text=True,
    ).stdout
    page = browser.new_page()
    page.set_content("<!doctype html><title>urls</title>")
    page.add_script_tag(content=bundle)
    yield page
    page.close()


def python_verdict(url: str, purpose: str) -> bool:
    try:
        check_url(url, purpose)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


@pytest.mark.browser
def test_python_and_the_browser_give_the_same_verdicts(url_page):
    urls = [row[0] for row in TABLE]
    browser_verdicts = url_page.evaluate(
        """(urls) => urls.map((u) => [UpscopeUrls.checkWatchUrl(u).ok,
                                      UpscopeUrls.checkPageUrl(u).ok])""",
        urls,
    )
    for (url, watch, page_ok), (b_watch, b_page) in zip(TABLE, browser_verdicts, strict=True):
        shown = repr(url[:60])
        assert python_verdict(url, "watch") == watch, f"Python, watch link {shown}"
        assert python_verdict(url, "page") == page_ok, f"Python, page {shown}"
        assert b_watch == watch, f"browser, watch link {shown}"
        assert b_page == page_ok, f"browser, page {shown}"


@pytest.mark.browser
def test_the_origin_python_shows_is_the_one_the_browser_loads(url_page):
    accepted = [url for url, watch, _ in TABLE if watch]
    browser_origins = url_page.evaluate(
        "(urls) => urls.map((u) => new URL(UpscopeUrls.checkWatchUrl(u).url).origin)", accepted
    )
    for url, origin in zip(accepted, browser_origins, strict=True):
        assert origin_of(check_url(url, "watch")) == origin, repr(url[:60])


def test_refusals_name_the_value_and_what_is_allowed():
    with pytest.raises(ValueError) as info:
        check_url("http://evil.com\\@localhost/", "watch")
    text = str(info.value)
    assert "'http://evil.com\\\\@localhost/'" in text and "backslash" in text
    assert "Allowed: an absolute https: URL" in text
    with pytest.raises(ValueError, match=r"plain http: for a remote host"):
        check_url("http://localhost.evil.example/", "watch")
    with pytest.raises(ValueError, match=r"8193 characters long; the limit is 8192"):
        check_url("https://a.example/" + "a" * (8193 - 18), "page")
