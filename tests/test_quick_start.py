"""The README's Quick start, run as a new user runs it: its shell block, verbatim, pasted
into an interactive shell at the top of a fresh copy of the repository.

The block builds the runtime (`make run`), waits for the server, triggers a survey, prints
each text the citizen receives before the reply that answers it, reads the answers back
and stops the server. The copy holds the working tree's tracked files and the untracked
ones git does not ignore, so what is about to be committed is what is tried.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.private_redis import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: The variables a new user's shell has that the block may use (installers' settings
#: included); none that configures the gateway, so it runs on its embedded defaults.
KEPT = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "SHELL")
KEPT_PREFIXES = ("PIP_", "UV_", "SSL_CERT_", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY")
TIMEOUT = 600

pytestmark = pytest.mark.slow


def quick_start_block() -> str:
    """The shell block of the README's "Quick start" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Quick start") :]
    section = section[: section.index("\n## ", 1)]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start : section.index("\n```", start) + 1]


def fresh_copy(destination: Path) -> None:
    """The working tree's files as a clone of it after a commit would hold them; outside a
    git work tree (an unpacked archive), the tree less what .gitignore names."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        ignored = [
            line.strip().strip("/").rsplit("/", 1)[-1]
            for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        shutil.copytree(
            ROOT,
            destination,
            ignore=shutil.ignore_patterns(".git", ".hypothesis", ".grimp_cache", *ignored),
            dirs_exist_ok=True,
        )
        return
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not copied
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def new_users_environment(port: int) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name in KEPT or name.upper().startswith(KEPT_PREFIXES)
    }
    env["PORT"] = str(port)
    return env


def stop_leftovers(directory: Path) -> None:
    """End the processes still running in the copy (only a failed run leaves any)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == directory or directory in cwd.parents:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def json_lines(output: str) -> list[tuple[int, dict[str, Any]]]:
    """Each line of the output that is a JSON object, with where it starts."""
    found = []
    offset = 0
    for line in output.splitlines(keepends=True):
        if line.startswith("{"):
            try:
                found.append((offset, json.loads(line)))
            except ValueError:
                pass
        offset += len(line)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds leftover processes in /proc")
def test_the_quick_start_block_runs_verbatim_in_a_fresh_copy(tmp_path: Path) -> None:
    for program in ("script", "make", "curl"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")
    copy = tmp_path / "clone"
    copy.mkdir()
    fresh_copy(copy)
    block = tmp_path / "quick_start.sh"
    block.write_text(quick_start_block(), encoding="utf-8")
    port = free_port()

    # A terminal of its own (script) gives the shell job control, as when pasted by hand,
    # so that the block's `kill %make` stops make and the server together.
    shell = f"bash --norc --noprofile -m -e -o pipefail {block}"
    try:
        run = subprocess.run(
            ["script", "--quiet", "--return", "--flush", "--command", shell, "/dev/null"],
            cwd=copy,
            env=new_users_environment(port),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
        )
        deadline = time.monotonic() + 15
        while listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        still_serving = listening(port)
    finally:
        stop_leftovers(copy)

    output = run.stdout.decode(errors="replace").replace("\r\n", "\n")
    log = copy / "gateway.log"
    shown = f"{output}\n--- gateway.log ---\n{log.read_text() if log.exists() else '(none)'}"
    assert run.returncode == 0, shown
    assert not still_serving, f"the server still answers on port {port} after the block"

    objects = json_lines(output)
    assert len(objects) == 2, shown
    (accepted_at, accepted), (read_at, read_back) = objects
    # The trigger's answer is the survey as accepted: queued, nothing sent yet.
    assert accepted["id"].startswith("sv_")
    assert (accepted["status"], accepted["messages"], accepted["sent_at"]) == ("queued", [], None)
    # Each text the citizen receives is printed before the reply to it, in order.
    texts = [
        "do you trust this agency to deliver on its mission for the American public?",
        "What went well? 1 I got what I needed, 2 It was easy",
        "Is there anything else you'd like to tell us?",
        "Thank you. Your feedback helps us improve.",
    ]
    places = [output.find(text, accepted_at) for text in texts]
    assert -1 not in places and places == sorted(places) and places[-1] < read_at, shown
    assert "OMB No. 1234-5678" in output[accepted_at:read_at]
    # The agency reads the answers back.
    assert read_back["id"] == accepted["id"]
    assert read_back["status"] == "completed"
    assert read_back["answers"] == {
        "trust": "yes",
        "went_well": ["effectiveness", "ease"],
        "comment": "Quick and friendly",
    }
    assert [m["direction"] for m in read_back["messages"]] == ["outbound", "inbound"] * 3 + [
        "outbound"
    ]
