"""The map stays true: what the guides and the code's prose name exists.

- Every repository path in README.md and docs/*.md (in backticks, links, prose or code
  blocks: ``gateway/sms/webhooks.py``, ``tests/faults/``, ``../gateway/flows/x.json``)
  and every module they run (``python -m bench.x``, ``gateway.app:create_app``).
- Every Sphinx cross-reference (``:mod:``, ``:func:``, ``:class:``, ``:data:``,
  ``:meth:``, ``:attr:``, ``:exc:``) in gateway/, channels/, config/ and bench/: a module
  that exists, or a module that defines the attribute.
- Every plain dotted name of those packages in a docstring or comment, and every path
  the code names.

Files are read as text and parsed with :mod:`ast`; nothing of the gateway is imported, so a
stale reference fails here by name even in a module that would not import. Each failure
names the file, the line and the missing target.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import functools
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The guides: the README and every page under docs/.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The code whose docstrings and comments are read for references and paths.
CODE_DIRS = ("gateway", "channels", "config", "bench")
#: The repository's top-level folders: ``tests/sms`` is a path, ``/twilio/sms`` a URL.
REPO_DIRS = ("gateway", "channels", "config", "flows", "tests", "bench", "docs")
#: Packages whose dotted names are resolved (any other is a library's).
PACKAGES = ("gateway", "channels", "config", "bench", "tests")
#: Names every module has without binding them.
BUILTINS = frozenset(dir(builtins))

#: Paths a guide names on purpose although they are not in the repository, and why.
EXAMPLES = {
    "flows/dmv-office-visit.yaml": "a broken flow of the reader's, in `gateway flows check`",
}

# A path under a top-level folder, anywhere in the text (backticks, links, prose, code
# blocks), not inside a URL or a longer path; ``{a,b}`` stands for each of its names.
_PATH = re.compile(
    r"(?<![\w./~@:-])((?:\.\./)*(?:" + "|".join(REPO_DIRS) + r")/(?:[\w.*/-]|\{[\w.,-]+\})*)"
)
# A Markdown link or image target: ``](target)`` or ``](target "title")``.
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# ``python -m package.module`` and ``package.module:attribute`` (an app factory).
_RUN_MODULE = re.compile(r"-m\s+((?:" + "|".join(PACKAGES) + r")(?:\.\w+)+)")
_MODULE_ATTR = re.compile(r"(?<![\w.])((?:" + "|".join(PACKAGES) + r")(?:\.\w+)+):(\w+)")
# A plain dotted name into one of the repository's packages.
_DOTTED = re.compile(r"(?<![\w.])((?:" + "|".join(PACKAGES) + r")(?:\.\w+)+)")
# A Sphinx cross-reference: ``:func:`gateway.jobs.sweep```, ``:class:`~x.Y```.
_ROLE = re.compile(r":(mod|func|class|data|meth|attr|exc):`([^`]+)`")
_ROLE_OPENING = re.compile(r":\w+:`[~!.]*$")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _expand(path: str) -> list[str]:
    """``a/{b,c}.py`` as ``a/b.py`` and ``a/c.py``."""
    group = re.search(r"\{([^{}]*)\}", path)
    if group is None:
        return [path]
    head, tail = path[: group.start()], path[group.end() :]
    return [p for name in group.group(1).split(",") for p in _expand(head + name + tail)]


def _exists(base: Path, path: str) -> bool:
    if "*" in path:
        return any(base.glob(path))
    return (base / path).exists()


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# -- the guides -------------------------------------------------------------------------


def _named_paths(doc: Path) -> Iterator[tuple[int, str, Path]]:
    """(line, path, the folder it is relative to) for every repository path a page names."""
    text = doc.read_text(encoding="utf-8")
    for match in _PATH.finditer(text):
        written = match.group(1).rstrip(".")
        if "..." in written.replace("../", "") or written in EXAMPLES:
            continue  # a placeholder ("flows/..."), or the reader's own file
        # ``../x`` is relative to the page; any other path to the repository's root.
        base = doc.parent if written.startswith("../") else ROOT
        for path in _expand(written):
            yield _line_of(text, match.start()), path, base
    for match in _LINK.finditer(text):
        target = match.group(1).split("#", 1)[0].split("?", 1)[0]
        if not target or re.match(r"[a-z][\w+.-]*:", target):  # an anchor, a URL, mailto:
            continue
        yield _line_of(text, match.start()), target, doc.parent


def test_every_path_the_guides_name_exists() -> None:
    _fail_with(
        [
            f"{_rel(doc)}:{line}: {path} does not exist"
            for doc in DOCS
            for line, path, base in _named_paths(doc)
            if not _exists(base, path)
        ]
    )


def test_every_module_the_guides_run_exists() -> None:
    problems = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in _RUN_MODULE.finditer(text):
            if _module_file(match.group(1)) is None:
                where = f"{_rel(doc)}:{_line_of(text, match.start())}"
                problems.append(f"{where}: -m {match.group(1)}: no such module")
        for match in _MODULE_ATTR.finditer(text):
            module, name = match.groups()
            problem = _problem(f"{module}.{name}", "attr")
            if problem is not None:
                where = f"{_rel(doc)}:{_line_of(text, match.start())}"
                problems.append(f"{where}: {module}:{name}: {problem}")
    _fail_with(problems)


# -- resolving dotted names without importing them --------------------------------------


def _code_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


@functools.cache
def _module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _bound_names(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """The names a module or class body binds (definitions, assignments, imports, also
    under ``if``, ``try`` and ``with``), each to the statement that binds it."""
    names: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names[leaf.id] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node
        elif isinstance(node, ast.If | ast.Try | ast.With):
            inner = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            for handler in getattr(node, "handlers", []):
                inner.extend(handler.body)
            names.update(_bound_names(inner))
    return names


def _instance_attributes(cls: ast.ClassDef) -> set[str]:
    """The attributes a class's methods set on ``self``."""
    return {
        node.attr
        for node in ast.walk(cls)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


@functools.cache
def _members(path: Path) -> frozenset[str]:
    """Every name a class of the file defines, for a method's docstring naming another."""
    names: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ClassDef):
            names |= set(_bound_names(node.body)) | _instance_attributes(node)
    return frozenset(names)


def _imported_target(node: ast.Import | ast.ImportFrom, name: str) -> str:
    """The dotted name that ``name``, bound by an absolute import, stands for."""
    for alias in node.names:
        if (alias.asname or alias.name).split(".")[0] == name:
            if isinstance(node, ast.Import):
                return alias.name if alias.asname else name
            return f"{node.module}.{alias.name}"
    raise AssertionError(f"{name} is not bound by this import")


def _problem(dotted: str, role: str, depth: int = 0) -> str | None:
    """Why ``dotted`` does not name what ``role`` says (a module for ``mod``, a module's
    attribute for the others), or None when it does."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module, path = ".".join(parts[:cut]), _module_file(".".join(parts[:cut]))
        if path is not None:
            rest = parts[cut:]
            break
    else:
        return f"no module {parts[0]}"
    if not rest:
        return None if role == "mod" else f"{dotted} is a module"
    node = _bound_names(_tree(path).body).get(rest[0])
    if node is None:
        return f"no module {dotted}" if role == "mod" else f"{module} defines no {rest[0]}"
    if isinstance(node, ast.Import | ast.ImportFrom):  # a name imported there: follow it
        target = _imported_target(node, rest[0])
        if target.split(".")[0] not in PACKAGES or depth > 5:
            return None  # a library's name: not the repository's to check
        if not rest[1:] and _module_file(target) is not None:
            return None  # a module, under the name it is imported as
        return _problem(".".join([target, *rest[1:]]), role, depth + 1)
    if role == "mod":
        return f"{dotted} is not a module"
    if len(rest) > 1 and isinstance(node, ast.ClassDef) and not node.bases:
        if rest[1] not in set(_bound_names(node.body)) | _instance_attributes(node):
            return f"{module}.{rest[0]} defines no {rest[1]}"
    return None


# -- the code ---------------------------------------------------------------------------


@functools.cache
def _is_library(name: str) -> bool:
    """Whether ``name`` is a top-level module that could be imported (found, not loaded)."""
    return importlib.util.find_spec(name) is not None


def _reference_problems(path: Path) -> Iterator[str]:
    """``file:line: reference: why`` for each reference in the file that names nothing.

    A reference into one of the repository's packages is resolved in full; a relative one
    (``.signature``) against the file's package; an unqualified one (``Survey``,
    ``Sweeper.run``) against what the file itself defines or imports; one that starts
    with an installed library's name (``rq.Retry``, ``hmac``) is the library's, left alone.
    """
    text = path.read_text(encoding="utf-8")
    for match in _ROLE.finditer(text):
        role, written = match.groups()
        target = written.strip().lstrip("~!").removesuffix("()")
        if target.startswith("."):
            package = _package_of(path).split(".")
            dots = len(target) - len(target.lstrip("."))
            target = ".".join(package[: len(package) - dots + 1] + [target.lstrip(".")])
        first = target.split(".")[0]
        if first in PACKAGES:
            problem = _problem(target, role)
        elif first in _bound_names(_tree(path).body):
            problem = _problem(f"{_module_name(path)}.{target}", role)
        elif first in _members(path) or first in BUILTINS or _is_library(first):
            problem = None
        else:
            problem = f"{_module_name(path)} defines or imports no {first}"
        if problem is not None:
            yield f"{_rel(path)}:{_line_of(text, match.start())}: :{role}:`{written}`: {problem}"


def test_every_code_reference_names_what_exists() -> None:
    _fail_with([problem for path in _code_files() for problem in _reference_problems(path)])


@functools.cache
def _docstring_lines(path: Path) -> frozenset[int]:
    """The lines of the file's docstrings (module, classes, functions)."""
    lines: set[int] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return frozenset(lines)


def _dotted_name_problems(path: Path) -> Iterator[str]:
    """``file:line: name: why`` for each plain dotted name in a docstring or comment
    (``gateway.sending.due``, ``(gateway.reach.fallback)``) that names nothing.

    Only a name whose first two parts are a module or package of the repository is read
    as a reference, so ``gateway.example.gov`` or a logger's name is left alone; names in
    the code's own strings (job names, signing salts) are values, not references.
    """
    text = path.read_text(encoding="utf-8")
    line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
    for match in _DOTTED.finditer(text):
        name = match.group(1)
        if _module_file(".".join(name.split(".")[:2])) is None or _module_file(name):
            continue  # not a reference, or a module that exists (most imports)
        line = bisect.bisect_right(line_starts, match.start())
        before = text[line_starts[line - 1] : match.start()]
        if _ROLE_OPENING.search(before):
            continue  # a cross-reference: checked with the others
        if not ("#" in before or line in _docstring_lines(path)):
            continue
        problem = _problem(name, "attr")
        if problem is not None:
            yield f"{_rel(path)}:{line}: {name}: {problem}"


def test_every_dotted_name_in_the_code_prose_exists() -> None:
    _fail_with([problem for path in _code_files() for problem in _dotted_name_problems(path)])


def _looks_like_a_path(written: str) -> bool:
    """In code, only what is clearly a path: a file with its extension, a folder with its
    slash, or two levels deep (a benchmark's ``gateway/bare`` ratio is not one)."""
    return bool(re.search(r"\.\w+$|/$", written)) or written.count("/") >= 2


def test_every_path_the_code_names_exists() -> None:
    problems = []
    for path in _code_files():
        text = path.read_text(encoding="utf-8")
        for match in _PATH.finditer(text):
            written = match.group(1).rstrip(".")
            if "..." in written or not _looks_like_a_path(written):
                continue
            for expanded in _expand(written):
                if not _exists(ROOT, expanded):
                    line = _line_of(text, match.start())
                    problems.append(f"{_rel(path)}:{line}: {expanded} does not exist")
    _fail_with(problems)
