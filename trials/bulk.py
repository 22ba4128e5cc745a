"""Inserting many rows fast: binary COPY on PostgreSQL, one executemany elsewhere; ids handed out before the insert.

The ORM's bulk_create builds a model instance per row and compiles one big INSERT; for ingest at registry
scale (a trial is ~40 rows) that costs more than parsing. Here rows are plain tuples in column order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows of a model, taken from its sequence (or past the largest id)."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: ids past both the largest id and AUTOINCREMENT's high-water mark; the caller's transaction
        # makes a concurrent writer fail on the unique key rather than share them.
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0),"
            " COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows (tuples in the order of `columns`, field names) into the model's table."""
    fields = [model._meta.get_field(name) for name in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary COPY: no text escaping of the compressed sources, no parsing of numbers and dates.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([field.db_type(connection).split("(")[0] for field in fields])
                for row in rows:
                    copy.write_row(row)
            return
        convert = _converters(fields)
        placeholders = ", ".join(["%s"] * len(fields))
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
            [[value if c is None else c(value) for c, value in zip(convert, row, strict=True)] for row in rows],
        )


def _converters(fields: Sequence[models.Field]) -> list[Callable[[Any], Any] | None]:
    """Per column, what turns a Python value into what SQLite takes (None: the value as it is)."""
    converters = []
    for field in fields:
        if isinstance(field, models.JSONField):
            converters.append(json.dumps)
        elif isinstance(field, models.CharField | models.TextField | models.IntegerField):
            converters.append(None)
        else:
            converters.append(lambda value, field=field: field.get_db_prep_save(value, connection))
    return converters
