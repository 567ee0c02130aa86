"""Argument types and start-up refusals that several command groups share."""

from __future__ import annotations

import argparse
from datetime import datetime

from ..errors import ConfigurationError

__all__ = ["cannot_listen", "parse_since", "positive_int", "require_server_extra"]


def parse_since(value: str) -> datetime:
    """An ISO 8601 date-time with a time zone (argparse type)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no time zone: add Z or an offset (e.g. 2026-11-27T00:00:00Z)"
        )
    return moment


def positive_int(text: str) -> int:
    """A whole number of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def require_server_extra(command: str) -> None:
    """Refuse to start `command` when the optional `server` extra (uvicorn) is missing.

    Raises:
        ConfigurationError: uvicorn cannot be imported; the message names the extra to
            install, in one line (exit 2), instead of an import traceback.
    """
    try:
        import uvicorn  # noqa: F401 - only whether it imports matters here
    except ImportError:
        raise ConfigurationError(
            f"nswoo {command} needs the server extra, which is not installed: "
            "pip install 'nswoo[server]'"
        ) from None


def cannot_listen(host: str, port: int, exc: OSError) -> ConfigurationError:
    """A bind failure as a start-up refusal (exit 2) naming the address, without a traceback."""
    return ConfigurationError(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}", key="--port"
    )
