from django.http import HttpRequest

from . import tray


def comparison_tray(request: HttpRequest) -> dict:
    """The comparison tray shown on every page; read from the session alone (no query without a session)."""
    session = getattr(request, "session", {})
    entries = tray.entries(session)
    ids = [entry.registry_id for entry in entries]
    return {
        "tray": entries,
        "tray_ids": set(ids),
        "tray_compare_url": tray.compare_url(ids),
        "tray_limit": tray.LIMIT,
        "tray_next": request.get_full_path(),
    }
