"""``opsgraph serve``: the HTTP server, on the configured or an embedded database."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from typing import TYPE_CHECKING, Any

from opsgraph.cli.common import PROG, add_command, database, log
from opsgraph.cli.database import announce_demo_users, load_demo, migrate
from opsgraph.settings import ConfigError, Settings, get_settings

if TYPE_CHECKING:
    import argparse


def _port_is_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use; stop the other server or "
                    "choose another with --port / OPSGRAPH_PORT"
                ) from None
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _bootstrap_admin(url: str, settings: Settings) -> None:
    """The admin of OPSGRAPH_BOOTSTRAP_ADMIN_*, made (or found) before the demo data, so
    that a demo username given there gets the configured password; the server's processes
    then see no bootstrap settings (and neither the password)."""
    from opsgraph.app import BOOTSTRAP_VARIABLES, bootstrap_admin
    from opsgraph.db import create_engine, create_session_factory

    async def run() -> None:
        engine = create_engine(url, settings)
        try:
            await bootstrap_admin(settings, create_session_factory(engine))
        finally:
            await engine.dispose()

    if settings.bootstrap_admin_username:
        asyncio.run(run())
    for variable in BOOTSTRAP_VARIABLES.values():
        os.environ[variable] = ""


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    _port_is_free(host, port)
    if args.no_worker:
        os.environ["OPSGRAPH_WORKER_IN_SERVE"] = "false"
    with database(settings, migrated=not args.migrate) as url:
        if args.migrate:
            migrate(url, settings)
        _bootstrap_admin(url, settings)
        os.environ["OPSGRAPH_DATABASE_URL"] = url  # for the app factory, workers and reloads
        get_settings.cache_clear()
        if args.seed_demo:
            announce_demo_users(load_demo(url, settings), settings, host, port)
        log.info("serving on http://%s:%s (GraphiQL at /graphql)", host, port)
        uvicorn.run(
            "opsgraph.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            reload=args.reload,
            log_config=None,
            lifespan="on",
            # X-Forwarded-* are read by the app itself, from OPSGRAPH_TRUSTED_PROXIES only
            # (create_app): uvicorn's own reading would believe any local caller
            proxy_headers=False,
            http="opsgraph.rest.http_protocol:LimitedHttpProtocol",
            timeout_graceful_shutdown=settings.shutdown_drain_seconds,  # type: ignore[arg-type]
            timeout_keep_alive=settings.http_keep_alive_seconds,
            h11_max_incomplete_event_size=settings.http_max_header_bytes,
        )


def add_serve(commands: Any) -> None:
    """The ``serve`` command."""
    serve = add_command(
        commands,
        "serve",
        "run the HTTP server (embedded PostgreSQL if no URL)",
        "Serve /graphql (GraphiQL in a browser), /auth/token, /health, /ready and the webhooks.\n"
        "Without OPSGRAPH_DATABASE_URL an embedded PostgreSQL runs in OPSGRAPH_DATA_DIR and\n"
        "stops with the server. The database must be migrated (or pass --migrate).",
        f"""  {PROG} serve --migrate --seed-demo
  {PROG} serve --host 0.0.0.0 --port 8080 --workers 4 --no-worker
  OPSGRAPH_DATABASE_URL=postgresql://u:p@db:5432/opsgraph {PROG} serve""",
    )
    serve.add_argument("--host", help="interface to bind (default OPSGRAPH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default OPSGRAPH_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=None, help="worker processes")
    serve.add_argument("--reload", action="store_true", help="restart on code changes")
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument("--seed-demo", action="store_true", help="load the demo data (once)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="run no job worker in the server (workers run apart: `opsgraph worker`)",
    )
    serve.set_defaults(handler=cmd_serve)
