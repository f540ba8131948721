"""`gateway run`: serve the web app."""

from __future__ import annotations

import os

import click

from gateway.app import create_app


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: $PORT or 5000).")
def run_command(host: str, port: int | None) -> None:
    """Serve the gateway (embedded defaults when nothing is configured)."""
    port = port or int(os.environ.get("PORT", "5000"))
    app = create_app()
    app.run(host=host, port=port, debug=False, use_reloader=False)
