"""The comparison tray: trials a reader has chosen to compare, kept in their session.

Each entry holds the registry id and a short title, so that showing the tray on every page needs no query of
the trials (only the session's own, and only for readers who have a session).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

SESSION_KEY = "comparison_tray"
LIMIT = 6
TITLE_LENGTH = 90


@dataclass(frozen=True)
class Entry:
    registry_id: str
    title: str


def entries(session: MutableMapping) -> list[Entry]:
    return [Entry(registry_id, title) for registry_id, title in session.get(SESSION_KEY, [])]


def ids(session: MutableMapping) -> list[str]:
    return [entry.registry_id for entry in entries(session)]


def add(session: MutableMapping, registry_id: str, title: str) -> str:
    """Put a trial in the tray; the message says what happened."""
    current = entries(session)
    if registry_id in (entry.registry_id for entry in current):
        return f"{registry_id} is already in the comparison."
    if len(current) >= LIMIT:
        return f"The comparison holds {LIMIT} trials at most: remove one to add {registry_id}."
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1].rstrip() + "…"
    _store(session, [*current, Entry(registry_id, title)])
    return f"{registry_id} added to the comparison."


def remove(session: MutableMapping, registry_id: str) -> str:
    _store(session, [entry for entry in entries(session) if entry.registry_id != registry_id])
    return f"{registry_id} removed from the comparison."


def clear(session: MutableMapping) -> str:
    session.pop(SESSION_KEY, None)
    return "The comparison is empty."


def _store(session: MutableMapping, chosen: list[Entry]) -> None:
    # A new list each time: the session notices assignment, not changes inside a stored list.
    session[SESSION_KEY] = [[entry.registry_id, entry.title] for entry in chosen]


def compare_url(registry_ids: list[str]) -> str:
    return reverse("trials:compare") + "?" + urlencode({"ids": ",".join(registry_ids)}, safe=",/")
