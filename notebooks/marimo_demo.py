"""upscope-widget in marimo: a session on the built-in simulator, reactive cells, instructions.

Run it with `marimo edit notebooks/marimo_demo.py` (or `marimo run` for the app view).
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    from upscope_widget import UpscopeSession

    return UpscopeSession, mo


@app.cell
def _(mo):
    mo.md("""
    # A co-browsing session in marimo

    The session below runs on the built-in simulator (no Upscope account, no network).
    Wrapped in `mo.ui.anywidget`, it is reactive: every cell that reads `session` runs
    again when the session's status, page, tool, tab or call state changes.
    """)
    return


@app.cell
def _(UpscopeSession, mo):
    session = mo.ui.anywidget(UpscopeSession.simulate(seed=7, height=420))
    session
    return (session,)


@app.cell
def _(mo, session):
    # Re-runs whenever the session's status, page or tool changes.
    status = mo.md(
        f"**Status:** `{session.session_status}` · **page:** `{session.current_url}` · "
        f"**tool:** `{session.control_tool}`"
    )
    status
    return


@app.cell
def _(mo, session):
    # Buttons run their on_click in the kernel: each sends one instruction to the session.
    draw = mo.ui.button(label="Draw", on_click=lambda _: session.set_mode("draw"))
    pointer = mo.ui.button(label="Pointer", on_click=lambda _: session.set_mode("pointer"))
    cart = mo.ui.button(
        label="Go to the cart",
        on_click=lambda _: session.set_current_url("https://shop.example/cart"),
    )
    mo.hstack([draw, pointer, cart], justify="start")
    return


if __name__ == "__main__":
    app.run()
