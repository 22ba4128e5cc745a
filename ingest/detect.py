"""Which parser reads a file, decided by its content, never by its name."""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import ModuleType
from typing import BinaryIO

from . import normalize as n
from .parsers import chictr_page, chictr_xml, ctgov_json, ctgov_page, ctgov_xml, ictrp_csv, ictrp_xml, raw_json_page
from .records import ParseError, RecordFailure, TrialRecord, UnparsedRecord

# Most specific first: the XML and CSV exports are told by their root element or header row (and hold
# trial ids and labels the page parsers look for), a raw-JSON page also names an NCT ID, a JSON study
# mentions many labels.
PARSERS: tuple[ModuleType, ...] = (
    chictr_xml,
    ictrp_xml,
    ictrp_csv,
    ctgov_json,
    ctgov_xml,
    raw_json_page,
    chictr_page,
    ctgov_page,
)
HEAD_BYTES = 256 * 1024  # what detection looks at: the start of the file
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # a format read whole (one record per file) is never larger


def detect(head: bytes) -> ModuleType:
    """The parser module for a file, from its first bytes; ParseError says why none fits."""
    if not head.strip():
        raise ParseError("empty file")
    text = _head_text(head)
    for parser in PARSERS:
        if parser.looks_like(text):
            return parser
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    raise ParseError(
        "not a recognised registry format (expected ClinicalTrials.gov JSON or XML, a WHO ICTRP XML or CSV export, "
        "ChiCTR XML, a ChiCTR or ClinicalTrials.gov record page or a Raw JSON page); "
        f"it starts with {first_line[:60]!r}"
    )


def _head_text(head: bytes) -> str:
    """The head decoded, even when it ends inside a multi-byte character."""
    for cut in range(4):
        try:
            return n.decode_text(head[: len(head) - cut])
        except ParseError:
            if cut == 3 or len(head) < HEAD_BYTES:
                raise
    raise AssertionError


def parse_stream(
    head: bytes, stream: BinaryIO, *, deferred: bool = False
) -> Iterator[TrialRecord | RecordFailure | UnparsedRecord]:
    """Records of a file of any supported format; formats that allow it are read as a stream.

    With `deferred`, formats whose records are cheap to cut apart (JSON Lines) yield them unparsed."""
    parser = detect(head)
    if parser is ctgov_json:
        return parser.parse_stream(stream, deferred=deferred)
    if hasattr(parser, "parse_stream"):
        return parser.parse_stream(stream)
    payload = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(payload) > MAX_DOCUMENT_BYTES:
        raise ParseError(f"a {parser.FORMAT} file is read whole and may hold at most {MAX_DOCUMENT_BYTES:,} bytes")
    return parser.parse(payload)


def parse(payload: bytes) -> Iterator[TrialRecord | RecordFailure]:
    """Records of a file given as bytes."""
    return parse_stream(payload[:HEAD_BYTES], io.BytesIO(payload))
