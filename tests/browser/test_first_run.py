"""A newcomer's first hour in a browser: ``make run`` in a fresh copy of the repository,
GraphiQL at /graphql, the sign-in bar with the demo password ``make run`` printed, then the
README's first query and GraphiQL's starter query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.cdp import chromium
from tests.browser.test_graphiql_browser import (
    QUERY_EDITOR,
    _assert_clean,
    _open,
    _result_text,
    _run,
    _sign_in,
    _state,
)
from tests.first_run import FirstRun

README_QUERY = '{ customer(externalId: "C-100") { name email orderCount } }'


@pytest.mark.timeout(900)  # the first run may install chromium
def test_a_fresh_clone_signs_in_from_graphiql_and_runs_the_readme_query(
    chromium_executable: str, first_run: FirstRun, tmp_path: Path
) -> None:
    password = first_run.passwords()["admin"]
    with chromium(tmp_path / "profile", chromium_executable) as page:
        _open(page, first_run.base)
        assert _state(page) == "signed-out"

        assert _sign_in(page, "admin", password) == ""
        assert _state(page) == "signed-in"

        # GraphiQL's starter query, as the page offers it
        starter = page.evaluate(
            f"document.querySelector({json.dumps(QUERY_EDITOR)}).CodeMirror.getValue()"
        )
        page.click(".graphiql-execute-button")
        result = json.loads(_result_text(page))
        assert "errors" not in result, (starter, result)
        assert result["data"]["me"]["username"] == "admin"
        assert result["data"]["customers"]["totalCount"] > 0

        # the README's first example
        result = json.loads(_run(page, README_QUERY))
        assert "errors" not in result, result
        customer = result["data"]["customer"]
        assert customer["name"]
        assert "@" in customer["email"]
        assert customer["orderCount"] >= 0

        _assert_clean(page, first_run.base)
