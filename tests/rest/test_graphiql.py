"""GraphiQL at /graphql: local files only, a strict CSP, a helpful page without the files,
the opt-in CDN mode, and the pins in package.json / package-lock.json / rest/graphiql.py."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.app import create_app
from opsgraph.rest import graphiql
from opsgraph.rest.graphiql import ASSETS, CDN_ORIGIN, IMMUTABLE, VENDOR_DIR
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')
OWN_FILES = ("explorer.css", "signin.js", "explorer.js")  # opsgraph/static/, in page order


def _csp(response: httpx.Response) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for directive in response.headers["content-security-policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def _install_fake_vendor(target: Path) -> None:
    target.mkdir()
    for asset in ASSETS:
        (target / asset.name).write_text(f"/* {asset.name} */\n")


@pytest.fixture
def vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Vendor files present: the installed ones when `make assets` ran, else stand-ins.

    Ask for it before ``client``: the app's static files are read from STATIC_DIR.
    """
    if graphiql.missing_vendor_files():
        fake = tmp_path / "vendor"
        _install_fake_vendor(fake)
        monkeypatch.setattr(graphiql, "VENDOR_DIR", fake)
        monkeypatch.setattr(graphiql, "STATIC_DIR", tmp_path)
        for own in OWN_FILES:
            shutil.copy(VENDOR_DIR.parent / own, tmp_path / own)
    return graphiql.VENDOR_DIR


@pytest.fixture
def no_vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphiql, "VENDOR_DIR", tmp_path / "nothing-here")


@pytest.fixture
async def cdn_client(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(graphiql_cdn=True), session_factory=session_factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _assert_strict_headers(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    header = response.headers["content-security-policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "<script>" not in response.text  # no inline script: every script has a src
    assert " style=" not in response.text
    return policy


async def test_browser_gets_graphiql_from_local_files_only(
    vendor: Path, client: httpx.AsyncClient
) -> None:
    response = await client.get("/graphql", headers=BROWSER)
    policy = _assert_strict_headers(response)
    assert policy["script-src"] == ["'self'"]
    nonce = policy["style-src"][1].removeprefix("'nonce-").removesuffix("'")
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert "://" not in response.text  # no origin at all: every reference is a path
    assert f'nonce="{nonce}"' in response.text
    assert 'data-endpoint="/graphql"' in response.text

    references = [r for r in REFERENCE.findall(response.text) if r != "data:,"]  # the icon
    assert [r.partition("?")[0] for r in references] == [
        *(f"/graphql/static/vendor/{a.name}" for a in ASSETS),
        *(f"/graphql/static/{own}" for own in OWN_FILES),
    ]
    for reference in references:
        path, _, fingerprint = reference.partition("?v=")
        assert re.fullmatch(r"[0-9a-f]{16}", fingerprint), reference
        served = await client.get(reference)
        assert served.status_code == 200, reference
        assert served.headers["cache-control"] == IMMUTABLE
        assert served.headers["x-content-type-options"] == "nosniff"
        local = graphiql.STATIC_DIR / path.removeprefix("/graphql/static/")
        assert served.content == local.read_bytes()
        assert hashlib.sha256(served.content).hexdigest()[:16] == fingerprint

    again = await client.get("/graphql", headers=BROWSER)
    assert _csp(again)["style-src"] != policy["style-src"]  # a new nonce every time


async def test_page_lists_assets_in_load_order(vendor: Path, client: httpx.AsyncClient) -> None:
    text = (await client.get("/graphql", headers=BROWSER)).text
    scripts = [m for m in REFERENCE.findall(text) if ".js" in m]
    names = [s.split("?")[0].rsplit("/", 1)[1] for s in scripts]
    assert names == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "plugin-explorer.umd.js",
        "signin.js",
        "explorer.js",
    ]


async def test_page_has_a_sign_in_form(vendor: Path, client: httpx.AsyncClient) -> None:
    text = (await client.get("/graphql", headers=BROWSER)).text
    form = text[text.index('<form class="signin-form"') : text.index("</form>")]
    assert 'name="username" autocomplete="username"' in form
    assert 'name="password" type="password" autocomplete="current-password"' in form
    assert '<button type="submit">Sign in</button>' in form
    assert "sign in to query data" in form
    assert '<button type="button" class="signout">Sign out</button>' in text
    assert re.search(r"\son[a-z]+=", text) is None  # handlers come from signin.js, not inline
    # the tokens are kept for the tab only
    script = (graphiql.STATIC_DIR / "signin.js").read_text()
    assert "sessionStorage" in script
    assert "localStorage" not in script


async def test_curl_and_any_accept_also_get_the_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "*/*"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


async def test_without_vendor_files_the_page_says_how_to_get_them(
    client: httpx.AsyncClient, no_vendor: None
) -> None:
    response = await client.get("/graphql", headers=BROWSER)
    _assert_strict_headers(response)
    text = response.text
    assert "GraphiQL is not installed" in text
    assert "Node.js" in text
    assert "make assets" in text
    assert "OPSGRAPH_GRAPHIQL_CDN=true" in text
    assert "<script" not in text
    origins = set(re.findall(r"[a-z]+://[^/\s\"'<]+", text))
    assert origins == {"http://testserver"}  # only in the curl example, naming this server
    for asset in ASSETS:
        assert asset.name in text


async def test_static_files_404_as_json(client: httpx.AsyncClient) -> None:
    for path in ("/graphql/static/nope.js", "/graphql/static/../app.py"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_cdn_mode_loads_pinned_versions_with_integrity(
    cdn_client: httpx.AsyncClient, no_vendor: None
) -> None:
    response = await cdn_client.get("/graphql", headers=BROWSER)
    policy = _assert_strict_headers(response)
    assert policy["script-src"] == ["'self'", CDN_ORIGIN]
    assert policy["style-src"][0] == "'self'"
    assert policy["style-src"][2] == CDN_ORIGIN
    text = response.text
    for asset in ASSETS:
        url = f"{CDN_ORIGIN}/npm/{asset.package}@{asset.version}/{asset.path}"
        tag = next(line for line in text.splitlines() if url in line)
        assert f'integrity="{asset.integrity}"' in tag
        assert 'crossorigin="anonymous"' in tag
    origins = set(re.findall(r"https?://[^/\s\"]+", text))
    assert origins == {CDN_ORIGIN}


def _package_json() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((ROOT / "package.json").read_text())
    return data


def test_npm_pins_are_exact_and_match_the_page() -> None:
    pins = _package_json()["dependencies"]
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == pins
    for asset in ASSETS:
        assert pins[asset.package] == asset.version, asset.package
        assert lock["packages"][f"node_modules/{asset.package}"]["version"] == asset.version


def test_vendor_script_copies_every_asset() -> None:
    script = _package_json()["scripts"]["vendor"]
    for asset in ASSETS:
        source = f"node_modules/{asset.package}/{asset.path}"
        assert source in script, source
        assert asset.name in script or source.endswith(f"/{asset.name}"), asset.name


def test_recorded_integrity_matches_the_installed_files() -> None:
    if graphiql.missing_vendor_files():
        pytest.skip("GraphiQL's files are not installed (`make assets` needs npm)")
    for asset in ASSETS:
        digest = hashlib.sha384((VENDOR_DIR / asset.name).read_bytes()).digest()
        actual = "sha384-" + base64.b64encode(digest).decode()
        assert asset.integrity == actual, f"{asset.name}: record {actual}"


def test_build_files_install_the_assets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*\bassets\b", makefile, re.MULTILINE)
    assert "$(NPM) ci" in makefile
    assert re.search(r"^run: .*\n(\t.*\n)*\t.*\bassets\b", makefile, re.MULTILINE)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM node:\S+ AS assets$", dockerfile, re.MULTILINE)
    assert "npm ci" in dockerfile
    assert "COPY --from=assets" in dockerfile
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "opsgraph/static/vendor/" in ignored
    assert "node_modules/" in ignored
