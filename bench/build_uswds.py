"""Build the USWDS stylesheet the pages load, with only what their templates use, and write
the compressed copies WhiteNoise serves (gateway/http/static_files.py).

1. npm installs USWDS and the tools, pinned, into .cache/uswds (once).
2. sass compiles USWDS's own sources, only the packages in :data:`PACKAGES`.
3. PurgeCSS drops every rule whose classes appear in no template and no Python module of
   the gateway (the classes the templates build from variables are in :data:`SAFELIST`).
   sass's compressed output is kept as it is: a CSS minifier's rewrites are not all safe
   (lightningcss turns normalize's ``font-family: monospace, monospace`` into
   ``monospace``, which shrinks ``<code>``).
4. Only the fonts in :data:`FONTS` are declared (the weights the pages render; see
   docs/performance.md), and each font and image the stylesheet names is copied from the
   USWDS package and named by its fingerprint, so the stylesheet's fingerprint changes
   whenever one of them does. Files no longer named are removed.
5. Every stylesheet and SVG of the static folders gets a ``.br`` and a ``.gz`` beside it
   (tests/web/test_static_files.py checks they match).

    .venv/bin/python bench/build_uswds.py                  # everything (needs npm)
    .venv/bin/python bench/build_uswds.py --compress-only  # step 5, after editing a .css

Commit what it writes under gateway/static/uswds, gateway/web/static and
gateway/dashboard/static.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from whitenoise.compress import Compressor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.http.static_files import digest, fingerprinted  # noqa: E402

USWDS_VERSION = "3.14.0"
NODE_PACKAGES = [
    f"@uswds/uswds@{USWDS_VERSION}",
    "sass@1.108.2",
    "purgecss@8.0.0",
]
CACHE = ROOT / ".cache" / "uswds"
DIST = CACHE / "node_modules" / "@uswds" / "uswds" / "dist"
TARGET = ROOT / "gateway" / "static" / "uswds"
STATIC_FOLDERS = [TARGET.parent, ROOT / "gateway/web/static", ROOT / "gateway/dashboard/static"]
COMPRESSED = (".css", ".svg")

#: USWDS packages the pages' components come from (uswds-form-controls: inputs, radios,
#: checkboxes, selects, labels, hints, fieldsets, error messages).
PACKAGES = [
    "uswds-global",
    "uswds-helpers",
    "uswds-typography",
    "usa-alert/src/styles",
    "usa-banner/src/styles",
    "usa-button/src/styles",
    "usa-footer/src/styles",
    "usa-form/src/styles",
    "usa-header/src/styles",
    "usa-layout-grid/src/styles",
    "usa-section/src/styles",
    "usa-skipnav/src/styles",
    "usa-summary-box/src/styles",
    "usa-table/src/styles",
    "uswds-form-controls",
    "uswds-utilities/src/styles",
]
#: Classes the templates build from variables: ``usa-alert--{{ alert }}`` (web/message.html)
#: and ``usa-{{ input }}__input`` (radios or checkboxes, web/question.html).
SAFELIST = {
    "standard": [f"usa-alert--{kind}" for kind in ("success", "warning", "error", "info")],
    "greedy": ["^usa-radio", "^usa-checkbox"],
}
#: Where PurgeCSS looks for the classes in use.
CONTENT = ["gateway/**/templates/**/*.html", "gateway/**/*.py"]
#: The faces the pages render (every page of the shipped flows, the simulator, the
#: dashboard, in Chromium): Source Sans Pro regular and bold, Merriweather regular
#: (``usa-intro``). A face not declared here is drawn from the nearest one declared.
FONTS = [
    "fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2",
    "fonts/source-sans-pro/sourcesanspro-bold-webfont.woff2",
    "fonts/merriweather/Latin-Merriweather-Regular.woff2",
]
#: Images the templates name themselves (``url_for('static', ...)``), kept as they are.
TEMPLATE_IMAGES = ["img/us_flag_small.png"]

ENTRY = """@use "uswds-core" with (
  $theme-show-notifications: false,
  $theme-show-compile-warnings: false,
  $theme-font-path: "../fonts",
  $theme-image-path: "../img"
);
"""
PURGECSS_CONFIG = """const settings = %s;
module.exports = {
  content: settings.content,
  css: [settings.css],
  // Responsive classes keep their prefix (tablet:grid-col-auto), and also split at it.
  defaultExtractor: (text) => [
    ...(text.match(/[\\w:-]+/g) || []),
    ...(text.match(/[\\w-]+/g) || []),
  ],
  safelist: {
    standard: settings.safelist.standard,
    greedy: settings.safelist.greedy.map((pattern) => new RegExp(pattern)),
  },
  fontFace: true,
  keyframes: true,
  variables: true,
};
"""
FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
URL = re.compile(r"url\(\s*(['\"]?)(\.\./[^'\")]+)\1\s*\)")


def run(*command: str) -> None:
    subprocess.run(command, cwd=CACHE, check=True)


def install_tools() -> None:
    """npm installs :data:`NODE_PACKAGES` into :data:`CACHE` unless they already are."""
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest = CACHE / "package.json"
    wanted = {spec.rpartition("@")[0]: spec.rpartition("@")[2] for spec in NODE_PACKAGES}
    if manifest.exists() and json.loads(manifest.read_text()).get("dependencies") == wanted:
        return
    manifest.write_text(json.dumps({"private": True, "dependencies": wanted}, indent=2))
    run("npm", "install", "--no-audit", "--no-fund", "--save-exact")


def compile_css() -> str:
    """The packages compiled (minified) and purged of unused rules."""
    entry = ENTRY + "".join(f'@forward "{package}";\n' for package in PACKAGES)
    (CACHE / "gateway.scss").write_text(entry)
    bin_ = CACHE / "node_modules" / ".bin"
    packages = DIST.parent / "packages"
    run(str(bin_ / "sass"), f"--load-path={packages}", "--style=compressed", "--no-source-map",
        "--quiet-deps", "gateway.scss", "compiled.css")  # fmt: skip
    settings = {
        "content": [str(ROOT / pattern) for pattern in CONTENT],
        "css": str(CACHE / "compiled.css"),
        "safelist": SAFELIST,
    }
    (CACHE / "purgecss.config.cjs").write_text(PURGECSS_CONFIG % json.dumps(settings))
    run(str(bin_ / "purgecss"), "--config", "purgecss.config.cjs", "--output", "purged")
    return (CACHE / "purged" / "compiled.css").read_text(encoding="utf-8")


def keep_fonts(css: str) -> str:
    """``css`` without the faces of fonts not in :data:`FONTS`."""

    def face(match: re.Match[str]) -> str:
        return match.group(0) if any(f"../{font})" in match.group(0) for font in FONTS) else ""

    return FONT_FACE.sub(face, css)


def fingerprint_assets(css: str) -> tuple[str, set[Path]]:
    """``css`` naming each font and image by its fingerprint, each copied from the USWDS
    package into :data:`TARGET`; and the set of files written."""
    written: set[Path] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(2).removeprefix("../")
        content = (DIST / name).read_bytes()
        hashed = fingerprinted(name, digest(content))
        path = TARGET / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.add(path)
        return f"url(../{hashed})"

    return URL.sub(replace, css), written


def build() -> None:
    install_tools()
    css, assets = fingerprint_assets(keep_fonts(compile_css()))
    for name in TEMPLATE_IMAGES:
        shutil.copyfile(DIST / name, TARGET / name)
        assets.add(TARGET / name)
    # sass marks its UTF-8 output (a check mark in a content string) with a byte order
    # mark, which is only one at the very start: @charset says it instead.
    header = (
        '@charset "UTF-8";\n'
        f"/*! uswds v{USWDS_VERSION}: only the components and utilities the gateway's "
        "templates use, built by bench/build_uswds.py */\n"
    )
    css = header + css.removeprefix("\ufeff")
    (TARGET / "css" / "uswds.min.css").write_text(css, encoding="utf-8")
    for folder in ("fonts", "img"):
        for path in sorted((TARGET / folder).rglob("*")):
            if path.is_file() and path not in assets:
                path.unlink()
        for path in sorted((TARGET / folder).rglob("*"), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def compress() -> None:
    """A ``.br`` and a ``.gz`` beside each stylesheet and SVG (where they save at least
    5 %), stale ones removed."""
    compressor = Compressor(quiet=True)
    for folder in STATIC_FOLDERS:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".br", ".gz"):
                path.unlink()
        for path in sorted(folder.rglob("*")):
            if path.suffix in COMPRESSED:
                compressor.compress(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compress-only", action="store_true")
    args = parser.parse_args()
    if not args.compress_only:
        build()
    compress()
    for folder in STATIC_FOLDERS:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                print(f"{path.stat().st_size:>8}  {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
