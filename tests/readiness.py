"""Waiting for a server process of a test to answer ``/ready``."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


def until_ready(base: str, timeout: float, ended: Callable[[], str | None]) -> str | None:
    """Poll ``base``/ready until it answers 200 (None), the process ends (what ``ended``
    says about it) or ``timeout`` seconds pass (a sentence saying so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        why = ended()
        if why is not None:
            return why
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return None
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return f"not ready in {timeout:.0f} s"
