"""The house rules of DESIGN.md, read from the source: no import cycles, no upward imports across rooms.

The import graph is built from every ``import`` statement of the four packages (function-level imports
included: a lazy import is still a dependency), resolved to the project's own modules. A package importing
its own children (its re-exports) is not an edge of a cycle. Then, at run time, ``import analysis`` and
``import xtrap.cli`` are watched in a fresh interpreter for any import of a module that is still being
initialised, which is what a cycle does when it runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("xtrap", "problems", "proofs", "analysis")
ROOMS = ("checks", "sharpness", "verify", "sharp_flat", "large_batch")
LOWER = ("checks", "sharpness")  # below every study
STUDIES = ("verify", "sharp_flat", "large_batch")
ALLOWED_SIBLING = {("analysis.verify.study", "analysis.sharp_flat.study")}  # verify(sharp_flat=True) links it


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            parts = f.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = f
    return mods


MODULES = _modules()


def _targets(module: str, node: ast.AST) -> list[str]:
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            if MODULES[module].name != "__init__.py":
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
    out = []
    for n in names:  # the deepest project module that the name lies in
        while n and n not in MODULES:
            n = n.rpartition(".")[0]
        if n and n != module:
            out.append(n)
    return out


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for m, f in MODULES.items():
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            for t in _targets(m, node):
                if not t.startswith(m + "."):  # a package importing its own children re-exports them
                    edges[m].add(t)
    return edges


EDGES = _edges()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "analysis" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ROOMS else "output" if parts[1] == "output" else None


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The detector itself: a planted three-cycle is found, a chain is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycle_anywhere() -> None:
    assert _cycles(EDGES) == []


def test_every_room_exists_with_a_docstring_that_says_what_it_may_import() -> None:
    for room in ROOMS:
        init = ROOT / "analysis" / room / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "May import" in doc, f"analysis/{room}/__init__.py needs a docstring naming its imports"
    assert not [f.name for f in (ROOT / "analysis").glob("*.py") if f.name not in ("__init__.py", "output.py")], \
        "analysis/ holds its rooms, output.py and __init__.py only"


def _upward(edges: dict[str, set[str]]) -> list[str]:
    """Edges that break the one-way flow of DESIGN.md, each with the rule it breaks."""
    bad = []
    for m, targets in edges.items():
        src = _room(m)
        for t in targets:
            dst = _room(t)
            if m.startswith(("problems", "proofs")) and t.split(".")[0] in ("xtrap", "analysis"):
                bad.append(f"{m} -> {t} (problems and proofs import nothing of ours above them)")
            if m.split(".")[0] in ("problems", "proofs") and t.split(".")[0] in ("problems", "proofs") and \
                    m.split(".")[0] != t.split(".")[0]:
                bad.append(f"{m} -> {t} (problems and proofs are independent)")
            if m.startswith("xtrap") and t.startswith("analysis") and not m.startswith(("xtrap.cli", "xtrap.testing")):
                bad.append(f"{m} -> {t} (only the CLI and xtrap.testing sit above analysis)")
            if src is None or dst is None or src == dst:
                continue
            if src in LOWER or src == "output":
                bad.append(f"{m} -> {t} ({src} imports no other room)")
            elif src in STUDIES and dst in STUDIES and (m, t) not in ALLOWED_SIBLING:
                bad.append(f"{m} -> {t} (a study does not import another study)")
    return bad


def _private(edges: dict[str, set[str]]) -> list[str]:
    """Imports of an underscored module from outside the package that holds it."""
    bad = []
    for m, targets in edges.items():
        for t in targets:
            parts = t.split(".")
            private = [i for i, p in enumerate(parts) if p.startswith("_")]
            if private and not m.startswith(".".join(parts[: private[0]]) + "."):
                bad.append(f"{m} -> {t}")
    return bad


def test_imports_flow_down_across_the_rooms() -> None:
    assert _upward(EDGES) == []


def test_underscored_modules_are_used_only_inside_their_package() -> None:
    assert _private(EDGES) == []


@pytest.mark.parametrize("edge, rule", [
    (("analysis.checks.bounds", "analysis.verify.study"), _upward),       # a lower room reaching up
    (("analysis.sharpness.hessian", "analysis.checks.tails"), _upward),   # one lower room into another
    (("analysis.sharp_flat.basins", "analysis.verify.evaluate"), _upward),  # a study into the other study
    (("analysis.output", "analysis.checks.summary"), _upward),           # the shared module into a room
    (("problems.quadratic", "xtrap.run"), _upward),
    (("xtrap.run", "analysis.checks.bounds"), _upward),
    (("analysis.sharp_flat.study", "analysis.verify._builders"), _private),
])
def test_the_rules_catch_a_planted_edge(edge: tuple[str, str], rule) -> None:
    """The rules are not vacuous: each planted edge is reported by the rule that forbids it."""
    assert edge[0] in MODULES and edge[1] in MODULES
    planted = {m: set(t) for m, t in EDGES.items()}
    planted[edge[0]].add(edge[1])
    assert rule(EDGES) == [] and any(line.startswith(f"{edge[0]} -> {edge[1]}") for line in rule(planted))


_WATCH = textwrap.dedent("""
    import builtins, importlib.util, sys
    packages, entry = sys.argv[1].split(","), sys.argv[2]
    real, hits = builtins.__import__, []
    def watch(name, globals=None, locals=None, fromlist=(), level=0):
        pkg = (globals or {}).get("__package__") or ""
        full = importlib.util.resolve_name("." * level + name, pkg) if level else name
        me = (globals or {}).get("__name__", "")
        for target in [full] + [f"{full}.{n}" for n in fromlist or () if n != "*"]:
            spec = getattr(sys.modules.get(target), "__spec__", None)
            if (target.split(".")[0] in packages and getattr(spec, "_initializing", False)
                    and not me.startswith(target + ".") and me != target):
                hits.append(f"{me} -> {target}")
        return real(name, globals, locals, fromlist, level)
    builtins.__import__ = watch
    importlib.import_module(entry)
    print("\\n".join(hits))
""")


def _half_initialised(entry: str, packages: tuple[str, ...], cwd: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _WATCH, ",".join(packages), entry], cwd=cwd, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_runtime_watch_sees_a_planted_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from . import a\n")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("from . import a\n")
    assert "cyc.a" in _half_initialised("cyc", ("cyc",), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["analysis", "xtrap.cli"])
def test_importing_never_meets_a_half_initialised_module(entry: str) -> None:
    """At run time a cycle shows as an import of a module whose own import has not finished."""
    assert _half_initialised(entry, PACKAGES, ROOT) == []
