"""A record's normalised content as plain JSON data, and its checksum; no Django here.

Two records with the same content have the same snapshot and checksum, however their raw files were laid out
(JSON whitespace and key order, line endings, another parser version). A value equal to the record field's
default (empty text, no date, no children) is left out, so adding a field to the records does not change
the snapshot of every record already stored.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Any

import orjson

from .records import PartialDate, TrialRecord

NOT_CONTENT = {"source", "source_format", "parser_version"}


def snapshot_of(record: TrialRecord) -> dict:
    """Every field of the record but its raw source: dates as ISO text cut to their precision, children as dicts."""
    return {name: value for name, value in _fields(record).items() if name not in NOT_CONTENT}


def _fields(item: Any) -> dict:
    values = {}
    for name, default in _defaults(type(item)):
        value = getattr(item, name)
        if value != default:
            values[name] = _plain(value)
    return values


@functools.cache
def _defaults(record_type: type) -> tuple[tuple[str, Any], ...]:
    return tuple(
        (field.name, field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default)
        for field in dataclasses.fields(record_type)
    )


_SCALARS = {str, int, float, bool, type(None)}


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, str):
        return str(value)  # a choice's enum member becomes its plain value
    if isinstance(value, PartialDate):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value):
        return _fields(value)
    return value


def canonical_json(snapshot: dict) -> bytes:
    """The one spelling of a snapshot: sorted keys, no spaces, UTF-8.

    Stored checksums were taken of `json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",",
    ":"))`; orjson spells the same bytes five times faster (floats below 1e-4 aside, which ages rounded to four
    decimals never are).
    """
    return orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)


def content_checksum(snapshot: dict) -> str:
    """SHA-256 of the snapshot's canonical JSON."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()
