"""Reads a page can make at once: on threads with PostgreSQL connections of their own, while the page goes on."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

# Four threads a process, each keeping its connection as long as CONN_MAX_AGE says.
ALONGSIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="alongside")


def alongside(function: Callable, *args) -> Callable:
    """Start function(*args) on another connection and return what waits for its result; on SQLite, or inside a
    transaction (whose writes another connection does not see, as in tests), it runs here and now instead."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        result = function(*args)
        return lambda: result
    return ALONGSIDE.submit(_on_own_connection, function, *args).result


def _on_own_connection(function, *args):
    close_old_connections()  # as around a request: a connection past its age or broken is replaced
    try:
        return function(*args)
    finally:
        close_old_connections()
