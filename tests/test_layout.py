"""The package layout: no import circle anywhere in models, hdl, cosim and gen (imports inside
functions count too), and imports go one way between the packages."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["models", "hdl", "cosim", "gen"]   # folders; import names bnnmram.<folder>


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for p in (REPO / pkg).rglob("*.py"):
            name = ".".join(("bnnmram",) + p.relative_to(REPO).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = p
    return mods


def _graph(mods) -> dict[str, set[str]]:
    """Module -> the project modules it imports (a `from pkg import sub` names the submodule)."""
    g = {m: set() for m in mods}
    for name, p in mods.items():
        pkg = name if p.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
                targets = subs if len(subs) == len(node.names) else [base] + subs
            else:
                continue
            g[name] |= {t for t in targets if t in mods and t != name}
    return g


def _cycle(g) -> list[str] | None:
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(g[m]):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state and (c := visit(t)):
                return c
        state[m] = 2
        stack.pop()
        return None
    for m in sorted(g):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_no_import_circle():
    cycle = _cycle(_graph(_modules()))
    assert cycle is None, " -> ".join(cycle)


def test_the_circle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_imports_go_one_way_between_packages():
    order = {p: i for i, p in enumerate(PACKAGES)}   # models <- hdl <- cosim <- gen
    bad = [(m, t) for m, ts in _graph(_modules()).items() for t in ts
           if order[t.split(".")[1]] > order[m.split(".")[1]]]
    assert not bad, bad


def test_every_module_imports_by_its_namespaced_name():
    """No import of a bare `models`, `hdl`, `cosim` or `gen` (they would collide in site-packages)."""
    bare = []
    for name, p in _modules().items():
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
            bare += [(name, n) for n in names if n.split(".")[0] in PACKAGES]
    assert not bare, bare


def test_every_package_folder_is_packaged():
    """pyproject.toml lists each folder holding an __init__.py under its bnnmram name."""
    import tomllib
    setup = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"bnnmram." + ".".join(p.parent.relative_to(REPO).parts)
               for pkg in PACKAGES for p in (REPO / pkg).rglob("__init__.py")}
    assert folders <= set(setup["packages"]), folders - set(setup["packages"])
    assert all(setup["package-dir"][f"bnnmram.{pkg}"] == pkg for pkg in PACKAGES)
