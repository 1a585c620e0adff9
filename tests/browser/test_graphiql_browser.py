"""GraphiQL in a real browser with no internet: load /graphql, sign in, run queries, read them.

Headless Chromium runs with every non-loopback host unreachable (see cdp.OFFLINE_FLAGS), so
the page can only work from the files this server serves. The tests also fail on any request
to another origin, on a Content-Security-Policy violation and on an uncaught page error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from opsgraph.auth.permissions import BUILTIN_ROLES
from opsgraph.auth.principal import Principal
from opsgraph.services.customer import create_customer
from opsgraph.services.user import create_user
from tests.browser.cdp import Page, chromium
from tests.browser.conftest import serving

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


def _open(page: Page, base: str) -> None:
    """Watch the page's events, load /graphql and wait for GraphiQL's editor."""
    for domain in ("Page", "Runtime", "Network", "Log"):
        page.send(f"{domain}.enable")
    page.send("Page.addScriptToEvaluateOnNewDocument", source=COLLECT_CSP_VIOLATIONS)
    page.send("Page.navigate", url=f"{base}/graphql")
    _wait_for_editor(page)


def _wait_for_editor(page: Page) -> None:
    page.wait_for(f"!!document.querySelector({json.dumps(QUERY_EDITOR)})", timeout=60)
    assert page.evaluate("document.title") == "opsgraph GraphiQL"


# what Chromium logs as a console error for an answer with this status
REFUSED = tuple(f"status of {status}" for status in (400, 401, 429))


def _assert_clean(page: Page, base: str, refused: tuple[str, ...] = REFUSED) -> None:
    """No CSP violation in this document; over the whole visit no page error, no request
    to another origin, no failed load, no console error but the ``refused`` answers (400s,
    401s and 429s) of requests that were meant to fail."""
    assert page.evaluate("window.__cspViolations") == []
    assert page.of_kind("Runtime.exceptionThrown") == []
    urls = [event["request"]["url"] for event in page.of_kind("Network.requestWillBeSent")]
    foreign = [u for u in urls if not u.startswith((base, "data:"))]
    assert urls
    assert foreign == []
    failed = page.of_kind("Network.loadingFailed")
    assert failed == [], failed
    errors = [
        entry["entry"]
        for entry in page.of_kind("Log.entryAdded")
        if entry["entry"]["level"] == "error"
        and not any(status in entry["entry"]["text"] for status in refused)
    ]
    assert errors == []


def _result_text(page: Page) -> str:
    """What the result pane shows, once it shows something."""
    # the editor's value, not its rendered text: CodeMirror renders only the lines in view
    text: str = page.wait_for(
        f"(() => {{ const el = document.querySelector({json.dumps(RESULT)});"
        " const text = el && el.CodeMirror.getValue().trim(); return text || null; })()"
    )
    return text


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
        _open(page, live_server)

        result = json.loads(_run(page, PUBLIC))
        assert result["data"] == {"__typename": "Query"}
        # the data needs a signed-in user: refused, 401
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

        _assert_clean(page, live_server)


# --- signing in from the page -----------------------------------------------------------

USERNAME = "graphiql-staff"
PASSWORD = "graphiql password 1234"
EXTERNAL_ID = "GRAPHIQL-1"
CUSTOMER = "Fjällvik Fastigheter AB"
STORE = "opsgraph.signIn"  # signin.js's sessionStorage key
BAR = "#signin"


async def _add_user_and_customer(url: URL, username: str = USERNAME, role: str = "staff") -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session, session.begin():
            user = await create_user(
                session,
                username=username,
                email=f"{username}@example.com",
                password=PASSWORD,
                roles=[role],
                password_rounds=4,
            )
            actor = Principal(user.id, user.username, BUILTIN_ROLES[role][1])
            await create_customer(session, name=CUSTOMER, external_id=EXTERNAL_ID, actor=actor)
    finally:
        await engine.dispose()


@pytest.fixture
def sign_in_server(fresh_database_url: URL, vendor_assets: None) -> Iterator[str]:
    """A server over a database of the test's own, holding a staff user and a customer;
    access tokens live 1 minute (the shortest setting) and 2 failed logins block more."""
    asyncio.run(_add_user_and_customer(fresh_database_url))
    with serving(
        fresh_database_url,
        OPSGRAPH_ACCESS_TOKEN_MINUTES="1",
        OPSGRAPH_LOGIN_MAX_FAILURES="2",
    ) as base:
        yield base


def _state(page: Page) -> str:
    state: str = page.evaluate(f"document.querySelector({json.dumps(BAR)}).dataset.state")
    return state


def _stored(page: Page) -> dict[str, Any] | None:
    """What the page keeps in sessionStorage for this tab."""
    stored: dict[str, Any] | None = page.evaluate(
        f"JSON.parse(sessionStorage.getItem({json.dumps(STORE)}))"
    )
    return stored


def _message(page: Page) -> str:
    text: str = page.evaluate("document.querySelector('.signin-message').textContent")
    return text


def _fill(page: Page, selector: str, text: str) -> None:
    page.click(selector)
    page.key("a", "KeyA", 65, modifiers=2)  # Ctrl-A, then type over it
    page.key("Delete", "Delete", 46)
    page.type_text(text)


def _sign_in(page: Page, username: str, password: str) -> str:
    """Type into the bar's form, press Sign in, wait for the answer; the message shown."""
    page.evaluate("document.querySelector('.signin-message').textContent = ''")
    _fill(page, f"{BAR} input[name=username]", username)
    _fill(page, f"{BAR} input[name=password]", password)
    page.click(f"{BAR} .signin-form button")
    page.wait_for(
        "(() => { const bar = document.querySelector('#signin');"
        " const message = bar.querySelector('.signin-message').textContent;"
        " return !bar.querySelector('.signin-form button').disabled"
        " && (bar.dataset.state === 'signed-in' || message !== ''); })()"
    )
    return _message(page)


def _graphql_requests(page: Page, base: str) -> list[tuple[str, str | None]]:
    """(query, Authorization header) of every POST to /graphql so far."""
    requests = []
    for event in page.of_kind("Network.requestWillBeSent"):
        request = event["request"]
        if request["url"] == f"{base}/graphql" and request["method"] == "POST":
            query = json.loads(request.get("postData") or "{}").get("query", "")
            headers = {name.lower(): value for name, value in request["headers"].items()}
            requests.append((query, headers.get("authorization")))
    return requests


def _form_posts(page: Page, base: str) -> list[tuple[str, dict[str, str]]]:
    """(path, form fields) of every POST the bar sent to /auth/token and /auth/revoke."""
    posts = []
    for event in page.of_kind("Network.requestWillBeSent"):
        request = event["request"]
        path = request["url"].removeprefix(base)
        if path in ("/auth/token", "/auth/revoke") and request["method"] == "POST":
            headers = {name.lower(): value for name, value in request["headers"].items()}
            assert headers["content-type"].startswith("application/x-www-form-urlencoded")
            assert "authorization" not in headers
            fields = dict(parse_qsl(request.get("postData") or "", keep_blank_values=True))
            posts.append((path, fields))
    return posts


def _me_with(base: str, access_token: str) -> dict[str, Any]:
    """``{ me { username } }`` sent straight to the server with the token."""
    response = httpx.post(
        f"{base}/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    return body


def _renews(base: str, refresh_token: str) -> bool:
    """Whether the refresh token still gets new tokens at /auth/token."""
    response = httpx.post(
        f"{base}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        timeout=30,
    )
    return response.status_code == 200


def _reload(page: Page, base: str, refused: tuple[str, ...] = REFUSED) -> None:
    _assert_clean(page, base, refused)  # what this document saw, before the next one
    page.send("Page.reload")
    _wait_for_editor(page)


@pytest.mark.timeout(900)
def test_signing_in_from_graphiql(
    chromium_executable: str, sign_in_server: str, tmp_path: Path
) -> None:
    base = sign_in_server
    with chromium(tmp_path / "profile", chromium_executable) as page:
        _open(page, base)

        # signed out: the bar asks for a sign-in, and so does the starter query
        assert _state(page) == "signed-out"
        hint = page.evaluate("document.querySelector('.signin-hint').innerText")
        assert "sign in" in hint
        starter = page.evaluate(
            f"document.querySelector({json.dumps(QUERY_EDITOR)}).CodeMirror.getValue()"
        )
        assert starter.startswith("# Sign in with the form above first")
        assert _stored(page) is None

        assert _sign_in(page, USERNAME, PASSWORD) == ""
        assert _state(page) == "signed-in"
        shown = page.evaluate("document.querySelector('.signin-username').textContent")
        assert shown == USERNAME
        # at the OAuth2 token endpoint, not with a GraphQL mutation of the page's own
        assert _form_posts(page, base) == [
            ("/auth/token", {"grant_type": "password", "username": USERNAME, "password": PASSWORD})
        ]
        assert page.evaluate(f"document.querySelector('{BAR} input[name=password]').value") == ""
        signed_in = _stored(page)
        assert signed_in is not None
        assert signed_in["username"] == USERNAME
        first_access, first_refresh = signed_in["accessToken"], signed_in["refreshToken"]
        # for this tab only: nothing of it in localStorage
        local = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        assert first_access not in local
        assert first_refresh not in local

        # the starter query as it stands, run with the ▶ button: the user's own data
        page.click(".graphiql-execute-button")
        result = json.loads(_result_text(page))
        assert "errors" not in result, result
        data = result["data"]
        assert data["me"] == {
            "username": USERNAME,
            "roles": {"edges": [{"node": {"name": "staff"}}]},
        }
        assert data["customers"]["totalCount"] == 1
        assert data["customers"]["edges"] == [
            {"node": {"externalId": EXTERNAL_ID, "name": CUSTOMER}}
        ]
        query, authorization = _graphql_requests(page, base)[-1]
        assert query == starter
        assert authorization == f"Bearer {first_access}"

        # the access token lives a minute: the page renews it at /auth/token before then
        renewed_access = page.wait_for(
            f"(() => {{ const s = JSON.parse(sessionStorage.getItem({json.dumps(STORE)}));"
            f" return s && s.accessToken !== {json.dumps(first_access)} && s.accessToken; }})()",
            timeout=120,
        )
        renewed = _stored(page)
        assert renewed is not None
        assert renewed["refreshToken"] != first_refresh
        assert renewed["username"] == USERNAME
        assert _form_posts(page, base)[1] == (
            "/auth/token",
            {"grant_type": "refresh_token", "refresh_token": first_refresh},
        )
        assert _state(page) == "signed-in"
        result = json.loads(_run(page, "{ me { username } }"))
        assert result["data"] == {"me": {"username": USERNAME}}
        assert _graphql_requests(page, base)[-1] == (
            "{ me { username } }",
            f"Bearer {renewed_access}",
        )

        # a reload keeps the tab signed in
        _reload(page, base)
        page.wait_for(f"document.querySelector({json.dumps(BAR)}).dataset.state === 'signed-in'")
        assert page.evaluate("document.querySelector('.signin-username').textContent") == USERNAME
        assert _stored(page) == renewed

        # an old copy of the tab's tokens: renewing presents a spent refresh token, the
        # server ends the whole session and the page shows the signed-out state
        stale = {**renewed, "refreshToken": first_refresh, "renewAt": 0}
        page.evaluate(
            f"sessionStorage.setItem({json.dumps(STORE)}, {json.dumps(json.dumps(stale))})"
        )
        _reload(page, base)
        page.wait_for(f"document.querySelector({json.dumps(BAR)}).dataset.state === 'signed-out'")
        assert _message(page) == "Your sign-in has ended; sign in again."
        assert _stored(page) is None
        ended = _me_with(base, renewed_access)
        assert ended["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        # sign in again, then out with the button: revoking the refresh token ends the
        # session on the server
        assert _sign_in(page, USERNAME, PASSWORD) == ""
        again = _stored(page)
        assert again is not None
        assert _me_with(base, again["accessToken"])["data"] == {"me": {"username": USERNAME}}
        page.click(f"{BAR} .signout")
        page.wait_for(f"document.querySelector({json.dumps(BAR)}).dataset.state === 'signed-out'")
        assert _message(page) == "Signed out."
        assert _stored(page) is None
        assert _form_posts(page, base)[-1] == (
            "/auth/revoke",
            {"token": again["refreshToken"], "token_type_hint": "refresh_token"},
        )
        ended = _me_with(base, again["accessToken"])
        assert ended["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert not _renews(base, again["refreshToken"])
        result = json.loads(_run(page, "{ me { username } }"))
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert _graphql_requests(page, base)[-1] == ("{ me { username } }", None)

        # a wrong password, twice; then (OPSGRAPH_LOGIN_MAX_FAILURES=2) even the right one
        # is refused until the window passes
        for wrong in ("not the password", "still not the password"):
            assert _sign_in(page, USERNAME, wrong) == "Wrong username or password."
            assert _state(page) == "signed-out"
            password = page.evaluate(f"document.querySelector('{BAR} input[name=password]').value")
            assert password == ""
        assert _sign_in(page, USERNAME, PASSWORD) == (
            "Too many failed logins; try again in up to 15 minutes."
        )
        assert _state(page) == "signed-out"
        assert _stored(page) is None
        # the bar sent no GraphQL of its own: every /graphql request was GraphiQL's
        assert not [q for q, _ in _graphql_requests(page, base) if q.startswith("mutation")]

        _assert_clean(page, base)


# --- signing in where only registered documents run --------------------------------------

ADMIN = "graphiql-admin"
# and DOCUMENT_NOT_TRUSTED: 403 under application/graphql-response+json, what GraphiQL asks for
UNTRUSTED = (*REFUSED, "status of 403")


@pytest.fixture
def registered_server(fresh_database_url: URL, vendor_assets: None) -> Iterator[str]:
    """A server that runs registered documents only (what production runs), over a
    database of the test's own holding an admin and a customer; none of the page's
    documents is registered."""
    asyncio.run(_add_user_and_customer(fresh_database_url, ADMIN, "admin"))
    with serving(fresh_database_url, OPSGRAPH_TRUSTED_DOCUMENTS="registered") as base:
        yield base


@pytest.mark.timeout(900)
def test_signing_in_from_graphiql_where_only_registered_documents_run(
    chromium_executable: str, registered_server: str, tmp_path: Path
) -> None:
    """The bar signs in and out at /auth/token and /auth/revoke, which take no GraphQL
    document, so it works here too; a signed-in admin may then run any document."""
    base = registered_server
    with chromium(tmp_path / "profile", chromium_executable) as page:
        _open(page, base)
        assert _state(page) == "signed-out"
        starter = page.evaluate(
            f"document.querySelector({json.dumps(QUERY_EDITOR)}).CodeMirror.getValue()"
        )
        assert starter.startswith("# Sign in with the form above first")
        # signed out, the starter query is not trusted: it is no registered document
        page.click(".graphiql-execute-button")
        result = json.loads(_result_text(page))
        assert result["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"

        assert _sign_in(page, ADMIN, PASSWORD) == ""
        assert _state(page) == "signed-in"
        assert page.evaluate("document.querySelector('.signin-username').textContent") == ADMIN
        signed_in = _stored(page)
        assert signed_in is not None

        # the starter query as it stands: an admin's documents run unregistered
        page.evaluate(f"document.querySelector({json.dumps(RESULT)}).CodeMirror.setValue('')")
        page.click(".graphiql-execute-button")
        result = json.loads(_result_text(page))
        assert "errors" not in result, result
        assert result["data"]["me"] == {
            "username": ADMIN,
            "roles": {"edges": [{"node": {"name": "admin"}}]},
        }
        assert result["data"]["customers"]["edges"] == [
            {"node": {"externalId": EXTERNAL_ID, "name": CUSTOMER}}
        ]
        assert _graphql_requests(page, base)[-1] == (starter, f"Bearer {signed_in['accessToken']}")

        # sign out: the refresh token is revoked, and with it the access token (which until
        # then lets the admin send any document)
        working = _me_with(base, signed_in["accessToken"])
        assert working["data"] == {"me": {"username": ADMIN}}
        page.click(f"{BAR} .signout")
        page.wait_for(f"document.querySelector({json.dumps(BAR)}).dataset.state === 'signed-out'")
        assert _message(page) == "Signed out."
        assert _form_posts(page, base)[-1] == (
            "/auth/revoke",
            {"token": signed_in["refreshToken"], "token_type_hint": "refresh_token"},
        )
        assert not _renews(base, signed_in["refreshToken"])
        ended = _me_with(base, signed_in["accessToken"])
        assert ended.get("data") is None, ended
        # no admin signed in any more: an unregistered document is refused
        assert ended["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        result = json.loads(_run(page, "{ me { username } }"))
        assert result["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"

        _assert_clean(page, base, UNTRUSTED)
