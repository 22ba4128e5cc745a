"""WHO ICTRP "Export results to XML": ``<Trials_downloaded_from_ICTRP><Trial>…</Trial>…``, read as a stream."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException, EntitiesForbidden

from .. import normalize as n
from ..records import ParseError, RecordFailure, TrialRecord
from . import ictrp

FORMAT = "ictrp-xml"
PARSER_VERSION = "ictrp-xml/1"

# The prolog (declaration, comments, a doctype) before the root element.
XML_PROLOG = r"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*"
_ROOT = re.compile(
    XML_PROLOG + r"<(?P<root>Trials_downloaded_from_ICTRP|Trials)\b[^>]*>\s*(?:<Trial>\s*<(?P<first>\w+))?", re.S
)


def looks_like(text: str) -> bool:
    match = _ROOT.match(text)
    if not match:
        return False
    # A bare <Trials> root is ICTRP's when its trials start with their id, not ChiCTR's <main>.
    return match["root"] == "Trials_downloaded_from_ICTRP" or match["first"] in ("TrialID", "Internal_Number")


def parse(payload: bytes) -> Iterator[TrialRecord | RecordFailure]:
    """Yield one record per <Trial> of an ICTRP XML export."""
    return parse_stream(io.BytesIO(payload))


def parse_stream(stream: BinaryIO) -> Iterator[TrialRecord | RecordFailure]:
    """Yield one record per <Trial>, reading the export a piece at a time and letting go of each trial read."""
    for number, root, trial in trial_elements(
        stream, trials=("Trial",), roots=("Trials_downloaded_from_ICTRP", "Trials")
    ):
        fields: dict[str, str] = {}
        for child in trial:
            key, value = ictrp.field_key(child.tag), child.text or ""
            # A field given twice (two <Secondary_ID>) is one list, as ICTRP writes lists.
            fields[key] = f"{fields[key]};{value}" if fields.get(key) else value
        yield ictrp.record_or_failure(
            fields,
            number=number,
            source=element_source(root, trial),
            source_format=FORMAT,
            parser_version=PARSER_VERSION,
        )


def trial_elements(
    stream: BinaryIO, *, trials: tuple[str, ...], roots: tuple[str, ...]
) -> Iterator[tuple[int, str, ET.Element]]:
    """(number, root tag, element) for each trial element under the root, each let go once the caller is done.

    The parser is defusedxml's: entity declarations and external references are refused, not expanded.
    """
    text = n.text_stream(stream)
    root: ET.Element | None = None
    number = 0
    try:
        for event, element in DefusedET.iterparse(text, events=("start", "end")):
            if root is None:
                root = element
                if root.tag not in roots:
                    raise ParseError(f"the root element is <{root.tag}>, not <{roots[0]}>")
            elif event == "end" and element.tag in trials:
                number += 1
                yield number, root.tag, element
                root.clear()  # the trial just read is the root's only child: memory stays bounded
    except DefusedET.ParseError as error:
        raise ParseError(f"malformed XML after record {number}: {error}") from None
    except EntitiesForbidden as error:
        raise ParseError(f"the XML declares entity {error.name!r}; entities are refused, never expanded") from None
    except DefusedXmlException as error:
        raise ParseError(f"the XML is refused: {error}") from None
    except UnicodeDecodeError as error:
        raise ParseError(f"not readable text after record {number}: {error.reason} ({error.encoding})") from None


def element_source(root: str, element: ET.Element) -> bytes:
    """One trial as a document of its own, in its export's root element, so it can be read again alone."""
    element.tail = None
    body = ET.tostring(element, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>\n{body}\n</{root}>\n'.encode()
