"""GraphiQL with the explorer plugin, served from local files so it works with no internet.

`make assets` installs the pinned bundles with npm (package.json, package-lock.json) and
copies the few files the page needs into ``opsgraph/static/vendor/`` (git-ignored). The app
serves ``opsgraph/static/`` at ``/graphql/static/`` with long cache lifetimes; every URL on the
page carries a content fingerprint, so a new version is a new URL.

Above GraphiQL, a sign-in bar (``static/signin.js``) signs in and renews with ``POST
/auth/token`` and signs out with ``POST /auth/revoke`` (so it works whatever documents
``OPSGRAPH_TRUSTED_DOCUMENTS`` lets run), keeps the tokens in the tab's sessionStorage and
adds the access token to GraphiQL's requests; like ``explorer.js`` it is a file of its own,
as the CSP wants.

Without the vendor files the page still answers 200 and says how to install them. Loading the
same pinned versions from a public CDN, checked by their SRI hashes, is opt-in
(``OPSGRAPH_GRAPHIQL_CDN=true``). Either way the Content-Security-Policy names no origin but
this server's (and, in CDN mode, the CDN's).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
STATIC_PATH = "/graphql/static"
CDN_ORIGIN = "https://cdn.jsdelivr.net"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One file of a pinned npm package, as copied to ``opsgraph/static/vendor/<name>``."""

    package: str
    version: str  # exact; tests/rest/test_graphiql.py keeps it equal to package.json's pin
    path: str  # inside the package
    name: str  # file name under vendor/
    kind: Literal["script", "style"]
    integrity: str  # SRI of the file; checked against the installed files by the tests

    @property
    def cdn_url(self) -> str:
        return f"{CDN_ORIGIN}/npm/{self.package}@{self.version}/{self.path}"


# In load order. graphiql 3.x is the last major that ships UMD bundles (4 and 5 are ESM-only
# and need a bundler); it needs React 18, whose 18.3.1 is the last release with UMD files.
ASSETS: tuple[Asset, ...] = (
    Asset(
        "graphiql",
        "3.9.0",
        "graphiql.min.css",
        "graphiql.min.css",
        "style",
        "sha384-QMux00XgRtwRLSYIY3kw2rj1ovk5AuuliAchk+HSQbqdbGFnz9GYuqIlOqxhwCE2",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "3.2.6",
        "dist/style.css",
        "plugin-explorer.css",
        "style",
        "sha384-YN9MumWidbWKuNj8VfH5ggrFvm9YqAoIOMnKYpeGL3dr7Eg1qnQ+SAqSthdNZCjz",
    ),
    Asset(
        "react",
        "18.3.1",
        "umd/react.production.min.js",
        "react.production.min.js",
        "script",
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    ),
    Asset(
        "react-dom",
        "18.3.1",
        "umd/react-dom.production.min.js",
        "react-dom.production.min.js",
        "script",
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    ),
    Asset(
        "graphiql",
        "3.9.0",
        "graphiql.min.js",
        "graphiql.min.js",
        "script",
        "sha384-8NGfVj4CVlqHajlZj+bPJT4thxPMHMJYn7DWK2CvtopLd02E7qsPHazniBYvVjOO",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "3.2.6",
        "dist/index.umd.js",
        "plugin-explorer.umd.js",
        "script",
        "sha384-5p6hGdlOTvUy6Wf0GauxCz+xM9YB/YYvcGG+bf9msr2eyd+KVIxgRkepHgUijedJ",
    ),
)


def missing_vendor_files(vendor_dir: Path | None = None) -> list[str]:
    """The vendor files `make assets` has not installed (an empty list when all are there)."""
    vendor_dir = vendor_dir or VENDOR_DIR
    return [asset.name for asset in ASSETS if not (vendor_dir / asset.name).is_file()]


@lru_cache(maxsize=64)
def _fingerprint_of(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _versioned(request: Request, path: Path) -> str:
    """The URL of a file under static/, with a content fingerprint to make it cacheable."""
    stat = path.stat()
    relative = path.relative_to(STATIC_DIR).as_posix()
    root = request.scope.get("root_path", "")
    fingerprint = _fingerprint_of(path, stat.st_mtime_ns, stat.st_size)
    return f"{root}{STATIC_PATH}/{relative}?v={fingerprint}"


def content_security_policy(nonce: str, *, cdn: bool = False) -> str:
    """No origin but this server's; in CDN mode also the one CDN, for scripts and styles.

    ``style-src`` allows this response's nonce rather than 'unsafe-inline': GraphiQL sets its
    inline styles through the CSSOM (which CSP allows) and adds one <style> element, for the
    scroll lock of its dialogs, carrying the nonce ``explorer.js`` hands it. Fonts come as
    data: URLs inside graphiql.min.css.
    """
    extra = f" {CDN_ORIGIN}" if cdn else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{extra}",
            f"style-src 'self' 'nonce-{nonce}'{extra}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>{title}</title>
    <link rel="icon" href="data:,">
{head}
  </head>
  <body>
{body}
  </body>
</html>
"""

# The sign-in bar above GraphiQL; signin.js shows the form or the signed-in user. It carries
# GraphiQL's container class for the theme's colours (light or dark, as GraphiQL chose).
_EXPLORER_BODY = """\
    <div class="explorer">
      <header id="signin" class="graphiql-container signin" data-state="loading"
        data-token-endpoint="{root}/auth/token" data-revoke-endpoint="{root}/auth/revoke">
        <strong class="signin-title">opsgraph</strong>
        <form class="signin-form" hidden>
          <span class="signin-hint">Signed out: sign in to query data.</span>
          <label>Username <input name="username" autocomplete="username" required></label>
          <label>Password
            <input name="password" type="password" autocomplete="current-password" required>
          </label>
          <button type="submit">Sign in</button>
        </form>
        <div class="signin-user" hidden>
          Signed in as <strong class="signin-username"></strong>
          <button type="button" class="signout">Sign out</button>
        </div>
        <p class="signin-message" role="status" aria-live="polite"></p>
      </header>
      <div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL…</div>
    </div>
    <noscript>GraphiQL needs JavaScript. Without it, POST queries to {endpoint}.</noscript>"""

_SETUP_BODY = """\
    <main class="setup">
      <h1>GraphiQL is not installed on this server</h1>
      <p>This is the GraphQL endpoint of opsgraph. Its in-browser explorer, GraphiQL, runs
      from files that are installed next to the server, so that it works without internet
      access, and those files are missing here.</p>
      <p>To get the offline explorer:</p>
      <ol>
        <li>Install <strong>Node.js</strong> (version 18 or newer; it comes with npm).</li>
        <li>In the opsgraph checkout, run <code>make assets</code>. It installs the pinned
          GraphiQL packages with npm and copies them into
          <code>opsgraph/static/vendor/</code>. (<code>make run</code> does this by itself
          when npm is installed; the Docker image always contains them.)</li>
        <li>Reload this page.</li>
      </ol>
      <p>Where browsers may reach the internet, the server can instead load the same pinned
      versions from the jsDelivr CDN, checked by their integrity hashes: start it with
      <code>OPSGRAPH_GRAPHIQL_CDN=true</code>.</p>
      <p>The API works without GraphiQL; for example:</p>
      <pre>curl -s {url} -H 'Content-Type: application/json' \\
  -d '{{"query": "{{ customers(first: 1) {{ totalCount }} }}"}}'</pre>
      <p class="missing">Missing files: {missing}</p>
    </main>"""


def explorer_page(request: Request, *, cdn: bool = False) -> Response:
    """The HTML /graphql returns to a browser."""
    nonce = secrets.token_urlsafe(18)
    endpoint = escape(request.url.path)  # includes the root path, when there is one
    css = escape(_versioned(request, STATIC_DIR / "explorer.css"))
    own_css = f'    <link rel="stylesheet" href="{css}">'
    missing = [] if cdn else missing_vendor_files()
    if missing:
        title = "opsgraph GraphQL: GraphiQL is not installed"
        head = own_css
        url = escape(str(request.url.replace(query="", fragment="")))
        body = _SETUP_BODY.format(url=url, missing=escape(", ".join(missing)))
    else:
        tags = []
        for asset in ASSETS:
            if cdn:
                href = escape(asset.cdn_url)
                sri = f' integrity="{asset.integrity}" crossorigin="anonymous"'
            else:
                href = escape(_versioned(request, VENDOR_DIR / asset.name))
                sri = ""
            if asset.kind == "style":
                tags.append(f'    <link rel="stylesheet" href="{href}"{sri}>')
            else:
                tags.append(f'    <script defer src="{href}"{sri}></script>')
        tags.append(own_css)
        signin = escape(_versioned(request, STATIC_DIR / "signin.js"))
        tags.append(f'    <script defer src="{signin}"></script>')
        boot = escape(_versioned(request, STATIC_DIR / "explorer.js"))
        tags.append(f'    <script defer src="{boot}" nonce="{nonce}"></script>')
        title = "opsgraph GraphiQL"
        head = "\n".join(tags)
        root = escape(request.scope.get("root_path", ""))
        body = _EXPLORER_BODY.format(endpoint=endpoint, root=root)
    html = _PAGE.format(title=title, head=head, body=body)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": content_security_policy(nonce, cdn=cdn),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Vary": "Accept",
        },
    )


class ImmutableStaticFiles(StaticFiles):
    """Starlette's StaticFiles with long cache lifetimes (the page's URLs carry fingerprints)."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = IMMUTABLE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> StaticFiles:
    return ImmutableStaticFiles(directory=STATIC_DIR)
