"""WHO ICTRP CSV export: a header row (``TrialID, Last Refreshed on, Public title, …``), one row per trial."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from .. import normalize as n
from ..records import ParseError, RecordFailure, TrialRecord
from . import ictrp

FORMAT = "ictrp-csv"
PARSER_VERSION = "ictrp-csv/1"


def looks_like(text: str) -> bool:
    first_line = text.lstrip("\ufeff").partition("\n")[0].rstrip("\r")
    header = [ictrp.field_key(name) for name in next(csv.reader([first_line]), [])]
    return bool(header) and header[0] == "trialid" and {"public_title", "date_registration"} <= set(header)


def parse(payload: bytes) -> Iterator[TrialRecord | RecordFailure]:
    """Yield one record per row of an ICTRP CSV export."""
    return parse_stream(io.BytesIO(payload))


def parse_stream(stream: BinaryIO) -> Iterator[TrialRecord | RecordFailure]:
    """Yield one record per row, reading the export a piece at a time (rows may hold quoted line breaks)."""
    reader = csv.reader(n.text_stream(stream, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        keys = [ictrp.field_key(name) for name in header]
        if "trialid" not in keys:
            raise ParseError("not an ICTRP CSV export: the first line has no TrialID column")
        number = 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            number += 1
            fields = dict(zip(keys, row, strict=False))
            if len(row) != len(keys):
                position = f"record {number} ({n.clean(row[0])}) at line {reader.line_num}"
                yield RecordFailure(position=position, reason=f"{len(row)} fields where the header names {len(keys)}")
                continue
            yield ictrp.record_or_failure(
                fields,
                number=number,
                line=reader.line_num,
                source=_row_source(header, row),
                source_format=FORMAT,
                parser_version=PARSER_VERSION,
            )
    except csv.Error as error:
        raise ParseError(f"broken CSV at line {reader.line_num}: {error}") from None
    except UnicodeDecodeError as error:
        raise ParseError(f"not readable text at line {reader.line_num}: {error.reason} ({error.encoding})") from None


def _row_source(header: list[str], row: list[str]) -> bytes:
    """One trial as a CSV file of its own: the export's header and the trial's row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows((header, row))
    return out.getvalue().encode()
