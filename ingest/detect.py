"""Which parser reads a file, decided by its content, never by its name."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from . import normalize as n
from .parsers import chictr_page, chictr_xml, ctgov_json, ctgov_page, ictrp_csv, ictrp_xml, raw_json_page
from .records import ParseError, TrialRecord

# Most specific first: the XML and CSV exports are told by their root element or header row (and hold
# trial ids and labels the page parsers look for), a raw-JSON page also names an NCT ID, a JSON study
# mentions many labels.
PARSERS: tuple[ModuleType, ...] = (
    chictr_xml,
    ictrp_xml,
    ictrp_csv,
    ctgov_json,
    raw_json_page,
    chictr_page,
    ctgov_page,
)


def detect(payload: bytes) -> ModuleType:
    """The parser module for a file's bytes; ParseError says why none fits."""
    if not payload.strip():
        raise ParseError("empty file")
    text = n.decode_text(payload)
    for parser in PARSERS:
        if parser.looks_like(text):
            return parser
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    raise ParseError(
        "not a recognised registry format (expected a ChiCTR or ClinicalTrials.gov record page, "
        "a Raw JSON page, ClinicalTrials.gov JSON, a WHO ICTRP XML or CSV export or ChiCTR XML); "
        f"it starts with {first_line[:60]!r}"
    )


def parse(payload: bytes) -> Iterator[TrialRecord]:
    """Records of a file of any supported format."""
    return detect(payload).parse(payload)
