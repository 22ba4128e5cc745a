"""A search's trials as CSV rows or a JSON array, produced as a stream so that any size fits in memory."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from .models import Trial

COLUMNS = (
    "registry_id",
    "registry",
    "url",
    "public_title",
    "public_title_original",
    "status",
    "study_type",
    "phases",
    "conditions",
    "interventions",
    "enrollment",
    "min_age_years",
    "max_age_years",
    "sex",
    "countries",
    "sponsors",
    "start_date",
    "registration_date",
    "last_update_date",
)
CHUNK = 500


def _row(trial: Trial) -> dict:
    return {
        "registry_id": trial.registry_id,
        "registry": trial.registry,
        "url": trial.source_url,
        "public_title": trial.public_title,
        "public_title_original": trial.public_title_original,
        "status": trial.status,
        "study_type": trial.study_type,
        "phases": list(trial.phases),
        "conditions": trial.condition_names,
        "interventions": [intervention.name for intervention in trial.interventions.all()],
        "enrollment": trial.enrollment,
        "min_age_years": trial.min_age_years,
        "max_age_years": trial.max_age_years,
        "sex": trial.sex,
        "countries": trial.countries,
        "sponsors": [sponsor.name for sponsor in trial.sponsors.all()],
        "start_date": trial.start_date.isoformat() if trial.start_date else None,
        "registration_date": trial.registration_date.isoformat() if trial.registration_date else None,
        "last_update_date": trial.last_update_date.isoformat() if trial.last_update_date else None,
    }


def rows(trials: QuerySet) -> Iterator[dict]:
    listed = trials.prefetch_related("interventions", "sponsors").iterator(chunk_size=CHUNK)
    while chunk := list(itertools.islice(listed, CHUNK)):
        yield from map(_row, trials.with_listing_data(chunk))


def spreadsheet_safe(value):
    """Registry text that a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(spreadsheet_safe(value) for value in values)
        return buffer.getvalue()

    yield "\ufeff" + line(COLUMNS)  # the BOM makes spreadsheet programs read the Chinese text as UTF-8
    for row in rows:
        yield line("; ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for v in row.values())


def json_chunks(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    for number, row in enumerate(rows):
        yield ("," if number else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"
