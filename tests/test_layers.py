"""The import-layer contract (``make lint`` runs it) covers every part of the package."""

import pkgutil
import tomllib
from pathlib import Path

import opsgraph

ROOT = Path(__file__).resolve().parents[1]


def layered_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    names: set[str] = set()
    for layer in contract["layers"]:
        names |= {name.strip() for name in layer.replace(":", "|").split("|")}
    return names


def test_every_top_level_module_is_in_a_layer() -> None:
    top_level = {f"opsgraph.{m.name}" for m in pkgutil.iter_modules(opsgraph.__path__)}
    assert top_level - layered_modules() == set()
    assert layered_modules() - top_level == set()


def test_the_graph_layer_imports_no_graphql_library() -> None:
    graph = ROOT / "opsgraph" / "graph"
    imports = ("import strawberry", "from strawberry", "import graphql", "from graphql")
    offenders = [p.name for p in graph.glob("*.py") if any(i in p.read_text() for i in imports)]
    assert offenders == []
