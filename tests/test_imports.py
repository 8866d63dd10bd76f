"""Imports run one way: no cycles among module-level imports, and no module imports a higher layer.

Every import is read with `ast` (nothing is imported), at module level and inside functions,
relative imports resolved. Importing `a.b.c` also runs the package `a.b`, so that counts as
an import of `a.b` too (unless the importer lives inside it). A new module must be given a
layer below; a module may import its own layer and the ones beneath it.
"""

from __future__ import annotations

import ast
import fnmatch
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "minilvdm"

# Low to high. Patterns match module names (fnmatch); each module must match exactly one layer.
LAYERS = [
    ("config", ["minilvdm", "minilvdm.core", "minilvdm.core.config"]),  # core/__init__ imports nothing
    ("presets", ["minilvdm.core.presets"]),  # every size and count: plain numbers, read by every default_*
    (
        "foundations",
        [
            "minilvdm.diffusion",
            "minilvdm.diffusion.schedules",
            "minilvdm.diffusion.gaussian",
            "minilvdm.diffusion.attention",
            "minilvdm.diffusion.unet",
            "minilvdm.diffusion.conditioning",
            "minilvdm.diffusion.self_condition",
            "minilvdm.vae.blocks",
            "minilvdm.core.cost",
            "minilvdm.core.checkpoint",
            "minilvdm.core.viz",
            "minilvdm.data",
            "minilvdm.data.*",
        ],
    ),
    (
        "measurement",
        [
            "minilvdm.eval",
            "minilvdm.eval.frechet",
            "minilvdm.eval.reconstruction",
            "minilvdm.eval.corruptions",
            "minilvdm.eval.negatives",
            "minilvdm.eval.evaluators",
            "minilvdm.eval.metrics",
            "minilvdm.eval.drift",
            "minilvdm.eval.claims",
        ],
    ),
    ("training", ["minilvdm.core.train", "minilvdm.vae.latent_cache"]),
    (
        "autoencoder, evaluator training",
        ["minilvdm.vae", "minilvdm.vae.model", "minilvdm.vae.finetune", "minilvdm.eval.train_evaluators"],
    ),
    (
        "latent diffusion",
        [
            "minilvdm.methods",
            "minilvdm.methods.lvdm",
            "minilvdm.methods.classroom",
            "minilvdm.methods.autoguide",
        ],
    ),  # methods/__init__ imports nothing
    (
        "extensions",
        [
            "minilvdm.methods.videofusion",
            "minilvdm.methods.videofusion.*",
            "minilvdm.methods.image_to_video",
            "minilvdm.methods.image_to_video.*",
            "minilvdm.methods.long_video",
            "minilvdm.methods.long_video.*",
        ],
    ),
    ("shipped weights", ["minilvdm.pretrained"]),
    ("exercises", ["minilvdm.exercises", "minilvdm.exercises.*"]),
    ("commands", ["minilvdm.commands", "minilvdm.commands.*"]),
    ("entry point", ["minilvdm.__main__"]),
]


def module_files(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    files = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def read_imports(name: str, path: Path, modules: set[str]) -> list[tuple[str, bool, int]]:
    """(imported module, at module level?, line) for each package module `name` imports."""
    is_package = path.name == "__init__.py"
    found = []

    def target(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, top, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                mod = target(child)
                for alias in child.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{mod}.{alias.name}"
                    found.append((sub if sub in modules else mod, top, child.lineno))
            inner = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, top and not inner)

    visit(ast.parse(path.read_text()), True)
    return [(m, top, line) for m, top, line in found if m in modules and m != name]


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, list[tuple[str, bool, int]]]:
    """module -> [(module it imports, module level?, line)], with the implicit package imports."""
    files = module_files(root, package)
    graph = {}
    for name, path in files.items():
        edges = []
        for mod, top, line in read_imports(name, path, set(files)):
            edges.append((mod, top, line))
            parts = mod.split(".")
            for i in range(1, len(parts)):  # parent packages run first, unless we are inside them
                parent = ".".join(parts[:i])
                if not (name == parent or name.startswith(parent + ".")):
                    edges.append((parent, top, line))
        graph[name] = edges
    return graph


def cycles(graph: dict) -> list[list[str]]:
    """Strongly connected groups of more than one module among module-level imports (Tarjan)."""
    succ = {a: sorted({b for b, top, _ in edges if top}) for a, edges in graph.items()}
    index, low, stack, on, out = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in succ.get(v, []):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(succ):
        if v not in index:
            strong(v)
    return out


def layer_of(module: str) -> int:
    hits = [i for i, (_, patterns) in enumerate(LAYERS) for p in patterns if fnmatch.fnmatchcase(module, p)]
    if len(hits) != 1:
        raise AssertionError(f"{module} matches {len(hits)} layers in LAYERS; give it exactly one")
    return hits[0]


def upward_imports(graph: dict) -> list[str]:
    bad = []
    for a, edges in sorted(graph.items()):
        for b, top, line in edges:
            if layer_of(b) > layer_of(a):
                where = "module level" if top else "in a function"
                bad.append(
                    f"{a} (layer {LAYERS[layer_of(a)][0]!r}) imports {b} (layer {LAYERS[layer_of(b)][0]!r}) "
                    f"at line {line}, {where}"
                )
    return bad


GRAPH = import_graph()


def test_every_module_has_exactly_one_layer():
    for module in GRAPH:
        layer_of(module)


def test_no_cycles_among_module_level_imports():
    assert cycles(GRAPH) == []


def test_no_module_imports_a_higher_layer():
    assert upward_imports(GRAPH) == []


def test_the_reader_sees_relative_function_level_and_package_imports():
    edges = {a: {(b, top) for b, top, _ in e} for a, e in GRAPH.items()}
    generator = edges["minilvdm.methods.long_video.generator"]
    assert ("minilvdm.core.checkpoint", True) in generator  # from ...core.checkpoint import ...
    assert ("minilvdm.core", True) in generator  # its package runs first
    assert ("minilvdm.vae.model", False) in edges["minilvdm.methods.lvdm"]  # inside default_lvdm_config
    assert ("minilvdm.vae", False) in edges["minilvdm.methods.lvdm"]
    assert ("minilvdm.eval.reconstruction", True) in edges["minilvdm.vae.model"]
    assert ("minilvdm.eval", True) in edges["minilvdm.vae.model"]
    assert ("minilvdm.vae", True) not in edges["minilvdm.vae.model"]  # inside its own package
    assert ("minilvdm.vae.model", True) in edges["minilvdm.vae"]  # the package re-exports the model
    assert ("minilvdm.data", True) in edges["minilvdm.commands.data"]  # from ..data import ...
    assert "minilvdm.pretrained" not in {b for b, _ in edges["minilvdm.core.train"]}


def fake_package(tmp_path: Path, files: dict[str, str]) -> dict:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(tmp_path, "pkg")


def test_a_cycle_is_found_and_function_level_imports_do_not_make_one(tmp_path):
    graph = fake_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from .b import x\n",
            "b.py": "from . import c\nx = 1\n",
            "c.py": "import pkg.a\n",
            "d.py": "def f():\n    from .a import y\n",
            "e.py": "from .d import f\n",
        },
    )
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert ("pkg.a", False, 2) in graph["pkg.d"] and cycles({"pkg.d": graph["pkg.d"]}) == []


def test_an_upward_import_is_reported_with_its_line(monkeypatch):
    graph = {
        "minilvdm.vae.latent_cache": [("minilvdm.commands.data", False, 72)],
        "minilvdm.commands.data": [],
    }
    (problem,) = upward_imports(graph)
    assert (
        "minilvdm.vae.latent_cache" in problem
        and "minilvdm.commands.data" in problem
        and "line 72" in problem
    )


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_use_package_functions_not_commands(notebook):
    """Commands are the CLI's layer: a notebook imports what they import, not them."""
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        for node in ast.walk(ast.parse(code)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.startswith("minilvdm.commands")], (notebook.name, source[:200])
