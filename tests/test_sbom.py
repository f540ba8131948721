"""`make sbom`: a valid CycloneDX SBOM of exactly the runtime packages locked in uv.lock
(as requirements.txt exports them for this interpreter), and of no test tool."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
#: ``name==version ; marker \`` at the start of a requirement in an exported file.
REQUIREMENT = re.compile(r"^([A-Za-z0-9][\w.-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")

pytestmark = pytest.mark.slow


def locked(requirements: Path) -> dict[str, str]:
    """Package name -> version, of the requirements that apply to this interpreter."""
    found: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = REQUIREMENT.match(line)
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            found[canonicalize_name(name)] = version
    return found


@pytest.fixture(scope="module")
def sbom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    missing = [tool for tool in ("uv", "cyclonedx-py") if not (VENV / "bin" / tool).exists()]
    if missing:
        message = f"{', '.join(missing)} not installed in {VENV}: `make test` installs them"
        if os.environ.get("CI"):
            raise RuntimeError(message)
        pytest.skip(message)
    path = tmp_path_factory.mktemp("sbom") / "sbom.cdx.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    subprocess.run(
        # -o: the test tools are there (checked above); make must not reinstall them.
        ["make", "--no-print-directory", "-o", f"{VENV}/.installed-test", "sbom"]
        + [f"VENV={VENV}", f"SBOM={path}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    text = path.read_text(encoding="utf-8")
    from cyclonedx.schema import SchemaVersion  # a test tool, installed with cyclonedx-py
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document: dict[str, object] = json.loads(text)
    return document


def test_the_sbom_is_cyclonedx_describing_the_gateway(sbom: dict[str, object]) -> None:
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    metadata = sbom["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["component"]["name"] == "feedback-gateway"
    assert metadata["component"]["type"] == "application"
    assert metadata["timestamp"]


def test_the_sbom_lists_exactly_the_locked_runtime_packages(sbom: dict[str, object]) -> None:
    components = sbom["components"]
    assert isinstance(components, list)
    listed = {canonicalize_name(c["name"]): c["version"] for c in components}
    assert listed == locked(ROOT / "requirements.txt")
    assert "pytest" not in listed and "cyclonedx-bom" not in listed
    purls = {c["purl"] for c in components}
    assert all(purl.startswith("pkg:pypi/") for purl in purls)


def test_the_sbom_records_what_depends_on_what(sbom: dict[str, object]) -> None:
    dependencies = sbom["dependencies"]
    assert isinstance(dependencies, list)
    graph = {d["ref"]: d.get("dependsOn", []) for d in dependencies}
    root = sbom["metadata"]["component"]["bom-ref"]  # type: ignore[index]
    direct = {ref.split("==")[0].lower() for ref in graph[root]}
    assert {"flask", "sqlalchemy", "twilio", "rq", "gunicorn"} <= direct
