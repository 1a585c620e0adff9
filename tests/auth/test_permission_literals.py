"""Each permission is spelled once, in ``opsgraph.permissions``: no other module of the
package holds a string that is a permission; they name ``Permission`` members instead."""

from __future__ import annotations

import ast
from pathlib import Path

from opsgraph.permissions import Permission

PACKAGE = Path(__file__).resolve().parents[2] / "opsgraph"
SPELLED_HERE = PACKAGE / "permissions.py"
# modules (a folder: everything under it) still naming permissions by their strings
NOT_YET_CONVERTED: frozenset[str] = frozenset({"schema", "resolvers"})
VALUES = frozenset(permission.value for permission in Permission)


def _exempt(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return any(
        relative == Path(exempt) or Path(exempt) in relative.parents for exempt in NOT_YET_CONVERTED
    )


def _spelled(source: str) -> list[tuple[int, str]]:
    """Line and value of every string constant in ``source`` that is a permission."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VALUES
    ]


def _literals(path: Path) -> list[str]:
    where = path.relative_to(PACKAGE.parent)
    return [
        f"{where}:{line}: {value!r}" for line, value in _spelled(path.read_text(encoding="utf-8"))
    ]


def test_no_module_spells_a_permission() -> None:
    found = [
        literal
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != SPELLED_HERE and not _exempt(path)
        for literal in _literals(path)
    ]
    assert not found, "name the Permission member instead:\n" + "\n".join(found)


def test_the_check_sees_a_literal_and_not_a_pattern_or_member() -> None:
    source = (
        'actor.require("invoice:write")\n'
        'PATTERN = "invoice:*"\n'
        "actor.require(Permission.INVOICE_READ)\n"
        'TEXT = f"needs {Permission.USER_ADMIN}"\n'
    )
    assert _spelled(source) == [(1, "invoice:write")]


def test_not_yet_converted_names_existing_modules() -> None:
    for exempt in NOT_YET_CONVERTED:
        assert (PACKAGE / exempt).exists(), exempt
