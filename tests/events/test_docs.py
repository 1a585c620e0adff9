"""The README's event payload examples are real: each has the shape (keys, nesting and
value types) of the payload its service path emits. When they drift, the failure message
carries the examples made from this run, ready to paste."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.events.catalogue import EVENT_TYPES
from tests.events.catalogue_run import admin, by_type, emitted, run_catalogue

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(r"^`([a-z_]+\.[a-z_]+)`:\n```json\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


def render(examples: dict[str, dict[str, Any]]) -> str:
    return "\n\n".join(
        f"`{name}`:\n```json\n{json.dumps(examples[name], indent=2)}\n```" for name in EVENT_TYPES
    )


async def test_readme_examples_have_the_shape_of_real_payloads(session: AsyncSession) -> None:
    await run_catalogue(session, await admin(session))
    real = {name: payloads[0] for name, payloads in by_type(await emitted(session)).items()}
    documented = {name: json.loads(body) for name, body in EXAMPLE.findall(README.read_text())}
    assert list(documented) == list(EVENT_TYPES), render(real)
    for name in EVENT_TYPES:
        assert shape(documented[name]) == shape(real[name]), f"{name}:\n\n{render(real)}"
