"""A study record page whose "Raw JSON" part is a ClinicalTrials.gov API v2 study as a Python literal."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from .. import normalize as n
from ..records import ParseError, TrialRecord
from . import ctgov_json

FORMAT = "raw-json-page"
PARSER_VERSION = "raw-json-page/2"  # 2: secondary ids naming a registered trial (ctgov_json)
MAX_LITERAL_CHARS = 5_000_000
MAX_DEPTH = 40

_MARKER = re.compile(r"^\s*Raw JSON\s*$", re.M)


def looks_like(text: str) -> bool:
    match = _MARKER.search(text)
    return bool(match and text[match.end() :].lstrip().startswith("{"))


def parse(payload: bytes) -> Iterator[TrialRecord]:
    """Yield the study of a page that holds a study dict after a "Raw JSON" line."""
    text = n.decode_text(payload)
    match = _MARKER.search(text)
    if not match:
        raise ParseError("no 'Raw JSON' section found")
    literal = text[match.end() :].strip()
    line = text.count("\n", 0, match.end()) + 2
    if len(literal) > MAX_LITERAL_CHARS:
        raise ParseError(f"the Raw JSON literal is larger than {MAX_LITERAL_CHARS:,} characters")
    if _depth(literal) > MAX_DEPTH:
        raise ParseError(f"the Raw JSON literal nests deeper than {MAX_DEPTH} levels")
    try:
        # A literal is read, never evaluated: literal_eval accepts only constants and containers.
        study = ast.literal_eval(literal)
    except SyntaxError as error:
        where = f"line {line + (error.lineno or 1) - 1}"
        raise ParseError(f"the Raw JSON section is not a complete literal ({where}): {error.msg}") from None
    except (ValueError, MemoryError, RecursionError) as error:
        raise ParseError(f"the Raw JSON section is not a plain literal: {error}") from None
    if not isinstance(study, dict):
        raise ParseError("the Raw JSON section is not a study object")
    yield ctgov_json.study_record(study, payload, source_format=FORMAT, parser_version=PARSER_VERSION)


def _depth(literal: str) -> int:
    """Deepest bracket nesting, ignoring brackets inside quoted strings."""
    depth = deepest = 0
    quote = None
    escaped = False
    for char in literal:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "{[(":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}])":
            depth -= 1
    return deepest
