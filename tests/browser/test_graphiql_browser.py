"""GraphiQL in a real browser with no internet: load /graphql, type a query, run it, read it.

Headless Chromium runs with every non-loopback host unreachable (see cdp.OFFLINE_FLAGS), so
the page can only work from the files this server serves. The test also fails on any request
to another origin, on a Content-Security-Policy violation and on an uncaught page error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.cdp import Page, chromium

QUERY = "{ customers(first: 1) { totalCount } }"
# public: runs without signing in (and, unlike a failed login, leaves no row behind in
# the database the other tests share)
PUBLIC = "{ __typename }"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".result-window .CodeMirror"

COLLECT_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def _result_text(page: Page) -> str:
    """What the result pane shows, once it shows something."""
    text: str = page.wait_for(
        f"(() => {{ const el = document.querySelector({json.dumps(RESULT)});"
        " const text = el && el.innerText.replace(/\\u200b/g, '').trim(); return text || null; })()"
    )
    return text.replace("\xa0", " ")  # CodeMirror renders indentation as no-break spaces


def _run(page: Page, query: str) -> str:
    """Type the query into the editor, run it with the ▶ button, return the result text."""
    page.click(QUERY_EDITOR)
    page.key("a", "KeyA", 65, modifiers=2)  # Ctrl-A: select the example query
    page.key("Delete", "Delete", 46)
    page.type_text(query)
    typed = page.evaluate(
        f"document.querySelector({json.dumps(QUERY_EDITOR)}).CodeMirror.getValue()"
    )
    assert typed == query
    page.evaluate(
        f"document.querySelector({json.dumps(RESULT)}).CodeMirror.setValue('')"
    )  # so the wait below sees this run's result, not the last one
    page.click(".graphiql-execute-button")
    return _result_text(page)


@pytest.mark.timeout(900)  # the first run may install chromium and GraphiQL's files
def test_graphiql_runs_a_query_with_no_internet(
    chromium_executable: str, live_server: str, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile", chromium_executable) as page:
        for domain in ("Page", "Runtime", "Network", "Log"):
            page.send(f"{domain}.enable")
        page.send("Page.addScriptToEvaluateOnNewDocument", source=COLLECT_CSP_VIOLATIONS)
        page.send("Page.navigate", url=f"{live_server}/graphql")
        page.wait_for(f"!!document.querySelector({json.dumps(QUERY_EDITOR)})", timeout=60)
        assert page.evaluate("document.title") == "opsgraph GraphiQL"

        result = json.loads(_run(page, PUBLIC))
        assert result["data"] == {"__typename": "Query"}
        # the data needs a token (sent from GraphiQL's Headers tab): refused, 401
        result = json.loads(_run(page, QUERY))
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        # a request error: GraphiQL asks for application/graphql-response+json, gets a 400,
        # and still shows the errors
        result = json.loads(_run(page, "{ customers { nope } }"))
        assert "data" not in result
        assert "nope" in result["errors"][0]["message"]

        # the explorer plugin lists the schema's root fields
        page.click('[aria-label="Show GraphiQL Explorer"]')
        page.wait_for(
            "(() => { const el = document.querySelector('.graphiql-plugin');"
            " return el && el.innerText.includes('customers'); })()"
        )
        # a dialog: GraphiQL adds a <style> element then, allowed by the page's nonce
        page.click('[aria-label="Open settings dialog"]')
        page.wait_for("!!document.querySelector('.graphiql-dialog')")
        page.key("Escape", "Escape", 27)

        assert page.evaluate("window.__cspViolations") == []
        assert page.of_kind("Runtime.exceptionThrown") == []
        urls = [event["request"]["url"] for event in page.of_kind("Network.requestWillBeSent")]
        foreign = [u for u in urls if not u.startswith((live_server, "data:"))]
        assert urls
        assert foreign == []
        failed = page.of_kind("Network.loadingFailed")
        assert failed == [], failed
        errors = [
            entry["entry"]
            for entry in page.of_kind("Log.entryAdded")
            if entry["entry"]["level"] == "error"
            and "status of 400" not in entry["entry"]["text"]
            and "status of 401" not in entry["entry"]["text"]
        ]
        assert errors == []
