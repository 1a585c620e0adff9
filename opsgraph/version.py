"""The installed version of opsgraph."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opsgraph")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"
