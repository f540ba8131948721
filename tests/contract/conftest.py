"""The validating mock of Twilio's REST API (Stoplight Prism over Twilio's own OpenAPI
description, see ../shared/twilio/README.md), installed into .cache/prism when missing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.json"
PRISM_DIR = ROOT / ".cache" / "prism"
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install_prism() -> None:
    npm = shutil.which("npm")
    if npm is None:
        message = "npm is not installed: the Twilio contract tests need it to install Prism"
        if os.environ.get("CI"):
            raise RuntimeError(message)
        pytest.skip(message)
    subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(PRISM_DIR),
            "@stoplight/prism-cli@5",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def twilio_mock_url() -> Iterator[str]:
    """The origin of a running Prism mock of Twilio's API."""
    if not SPEC.is_file():
        raise FileNotFoundError(f"Twilio's OpenAPI description is missing: {SPEC}")
    if not PRISM.exists():
        _install_prism()
    port = _free_port()
    process = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Prism mock of Twilio's API did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
