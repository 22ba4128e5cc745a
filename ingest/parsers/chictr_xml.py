"""ChiCTR's own XML record, the WHO data-provider format: ``<trials><Triall><main>…</main><contacts>…``.

ChiCTR spells the trial element ``<Triall>``; ``<Trial>`` is read too. The elements are ICTRP's fields
under other names and grouped in sections, so the ICTRP mapping reads them once renamed.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from ..records import RecordFailure, TrialRecord
from . import ictrp
from .ictrp_xml import XML_PROLOG, element_source, trial_elements

FORMAT = "chictr-xml"
PARSER_VERSION = "chictr-xml/1"

TRIAL_TAGS = ("Triall", "Trial")
_ROOT = re.compile(XML_PROLOG + r"<trials\b[^>]*>\s*<(?:Triall|Trial)>\s*<main>", re.S)

# (section, element) -> ICTRP field, where the names differ; other elements keep their own name.
FIELDS = {
    ("main", "trial_id"): "trialid",
    ("main", "url"): "web_address",
    ("main", "reg_name"): "source_register",
    ("main", "hc_freetext"): "condition",
    ("main", "i_freetext"): "intervention",
    ("criteria", "agemin"): "inclusion_agemin",
    ("criteria", "agemax"): "inclusion_agemax",
    ("criteria", "gender"): "inclusion_gender",
    ("countries", "country2"): "countries",
    ("primary_outcome", "prim_outcome"): "primary_outcome",
    ("secondary_outcome", "sec_outcome"): "secondary_outcome",
    ("secondary_sponsor", "sponsor_name"): "secondary_sponsor",
    ("source_support", "source_name"): "source_support",
    ("health_condition_code", "hc_code"): "condition_code",
    ("intervention_code", "i_code"): "intervention_code",
}
KEYWORD_SECTIONS = {"health_condition_keyword", "intervention_keyword"}


def looks_like(text: str) -> bool:
    return bool(_ROOT.match(text))


def parse(payload: bytes) -> Iterator[TrialRecord | RecordFailure]:
    """Yield one record per trial element of a ChiCTR XML file."""
    single = payload.count(b"<Triall>") + payload.count(b"<Trial>") == 1
    for number, root, trial in trial_elements(io.BytesIO(payload), trials=TRIAL_TAGS, roots=("trials",)):
        fields, contacts, secondary_ids, keywords = _read(trial)
        yield ictrp.record_or_failure(
            fields,
            number=number,
            source=payload if single else element_source(root, trial),
            source_format=FORMAT,
            parser_version=PARSER_VERSION,
            contacts=contacts,
            secondary_ids=secondary_ids,
            keywords=keywords,
        )


def _read(trial: ET.Element) -> tuple[dict[str, str], list[dict[str, str]], list[tuple[str, str]], list[str]]:
    """The trial's ICTRP fields, its contacts, its (secondary id, issuer) pairs and its keywords."""
    fields: dict[str, str] = {}
    contacts: list[dict[str, str]] = []
    secondary_ids: list[tuple[str, str]] = []
    keywords: list[str] = []
    for section in trial:
        if section.tag == "contacts":
            contacts += [_children(contact) | {"role": _role(contact)} for contact in section]
        elif section.tag == "secondary_ids":
            secondary_ids += [
                (values.get("sec_id", ""), values.get("issuing_authority", "")) for values in map(_children, section)
            ]
        elif section.tag in KEYWORD_SECTIONS:
            keywords += [child.text or "" for child in section]
        elif section.tag == "ethics_reviews":
            for review in section:
                for name, value in _children(review).items():
                    _add(fields, f"ethics_review_{name}", value)
        else:
            for child in section:
                _add(fields, FIELDS.get((section.tag, child.tag)) or ictrp.field_key(child.tag), child.text or "")
    return fields, contacts, secondary_ids, keywords


def _children(element: ET.Element) -> dict[str, str]:
    return {ictrp.field_key(child.tag): child.text or "" for child in element}


def _add(fields: dict[str, str], key: str, value: str) -> None:
    """A repeated element (two <country2>, two ethics reviews) makes a ";" list, as ICTRP writes lists."""
    if not value.strip():
        fields.setdefault(key, "")
    else:
        fields[key] = f"{fields[key]};{value}" if fields.get(key) else value


def _role(contact: ET.Element) -> str:
    """WHO's contact types: "Public" (for public queries) and "Scientific" (for scientific queries)."""
    kind = (contact.findtext("type") or "").strip().lower()
    return f"{kind} contact" if kind else "contact"
