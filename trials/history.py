"""What changed between two versions of a trial, field by field, from their stored snapshots (ingest/snapshot.py).

Pure: reads snapshots (dicts) and the Trial model's field names and choices, never the database.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

from .choices import CriterionKind, OutcomeKind, Phase
from .comparison import years
from .models import SourceRecord, Trial

SHORT = 90  # characters of a value or an item shown in a change

# Fields shown as one change with another: the registry's wording, the original-language text, details.
COMPANION_OF = {
    "status_text": "status",
    "study_type_text": "study_type",
    "phase_text": "phases",
    "who_masked": "masking",
    "blinding_text": "masking",
    "sex_text": "sex",
    "ipd_sharing_text": "ipd_sharing",
    "min_age_text": "min_age_years",
    "max_age_text": "max_age_years",
}
COMPANIONS = {main: [name for name, of in COMPANION_OF.items() if of == main] for main in set(COMPANION_OF.values())}
LABELS = {
    "registry_id": "Registry id",
    "source_url": "Registry page",
    "phases": "Phase",
    "enrollment_target": "Enrolment (target)",
    "enrollment_actual": "Enrolment (actual)",
    "min_age_years": "Minimum age",
    "max_age_years": "Maximum age",
    "extra": "Other registry fields",
}


@dataclass(frozen=True)
class ChildList:
    """A list of children shown as one change (outcomes and criteria: one per kind)."""

    key: str
    label: str
    nouns: tuple[str, str]  # singular, plural
    names: tuple[str, ...]  # an item is named by the first of these it has
    kind: str = ""


MEASURE, TEXT = ("measure", "measure_original"), ("text", "text_original")
CHILD_LISTS = (
    ChildList("conditions", "Conditions", ("condition", "conditions"), ("name", "name_original")),
    ChildList("keywords", "Keywords", ("keyword", "keywords"), ("name", "name_original")),
    ChildList("arms", "Arms / groups", ("arm", "arms"), ("label", "label_original")),
    ChildList("interventions", "Interventions", ("intervention", "interventions"), ("name", "name_original")),
    *(
        ChildList("outcomes", f"{kind.label} outcomes", (f"{kind} outcome", f"{kind} outcomes"), MEASURE, kind)
        for kind in OutcomeKind
    ),
    *(
        ChildList("criteria", f"{kind.label} criteria", (f"{kind} criterion", f"{kind} criteria"), TEXT, kind)
        for kind in CriterionKind
    ),
    ChildList("sites", "Sites", ("site", "sites"), ("facility", "facility_original", "city", "country")),
    ChildList("sponsors", "Sponsors", ("sponsor", "sponsors"), ("name", "name_original")),
    ChildList("contacts", "Contacts", ("contact", "contacts"), ("name", "name_original", "role")),
    ChildList("identifiers", "Identifiers", ("identifier", "identifiers"), ("value",)),
    ChildList("biospecimens", "Samples", ("sample", "samples"), ("name", "name_original", "tissue")),
)
CHILD_KEYS = {child.key for child in CHILD_LISTS}
MODEL_ORDER = [field.name for field in Trial._meta.concrete_fields]


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # items still there under the same name, with other details
    note: str = ""


@dataclass(frozen=True)
class Version:
    source: SourceRecord
    changes: tuple[FieldChange, ...] | None  # None: nothing to compare with (the first, or a snapshot missing)
    first: bool
    snapshot: dict | None

    @property
    def file_name(self) -> str:
        """The file the version came from, without the folders of the machine that read it."""
        return self.source.origin.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def registry_update(self) -> str:
        """The last update date the registry gave in this version."""
        return (self.snapshot or {}).get("last_update_date", "")


def versions(sources: Iterable[SourceRecord]) -> list[Version]:
    """A trial's versions as given (newest first), each with what changed since the one before it."""
    sources = list(sources)
    snapshots = [source.snapshot_data for source in sources]
    listed = []
    for index, (source, snapshot) in enumerate(zip(sources, snapshots, strict=True)):
        earlier = snapshots[index + 1] if index + 1 < len(sources) else None
        compared = snapshot is not None and earlier is not None
        listed.append(
            Version(
                source=source,
                changes=tuple(changes(earlier, snapshot)) if compared else None,
                first=index + 1 == len(sources),
                snapshot=snapshot,
            )
        )
    return listed


def changes(old: dict, new: dict) -> list[FieldChange]:
    """The fields that differ between two snapshots, in the trial page's order, each once."""
    found = []
    for name in _scalar_order(old, new):
        members = [name, *COMPANIONS.get(name, ()), f"{name}_original"]
        differing = [member for member in members if old.get(member) != new.get(member)]
        if differing:
            shown = differing[0]
            found.append(_scalar_change(name, shown, old.get(shown), new.get(shown)))
    for child in CHILD_LISTS:
        if old.get(child.key) != new.get(child.key):
            change = _list_change(child, _items(old, child), _items(new, child))
            if change:
                found.append(change)
    return found


def _scalar_order(old: dict, new: dict) -> list[str]:
    """Main fields in the model's order, then names the model does not know (a record field added later)."""
    present = {name for name in (*old, *new) if name not in CHILD_KEYS}
    mains = {COMPANION_OF.get(name, name.removesuffix("_original")) for name in present}
    return [name for name in MODEL_ORDER if name in mains] + sorted(mains - set(MODEL_ORDER))


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    try:
        return capfirst(Trial._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a record field with no column of its own
        return capfirst(name.replace("_", " "))


def _scalar_change(name: str, shown: str, old, new) -> FieldChange:
    if isinstance(old, dict) or isinstance(new, dict):
        return _mapping_change(_label(name), old or {}, new or {})
    display = _display_for(shown)
    return FieldChange(_label(name), display(old), display(new))


def _display_for(name: str) -> Callable[[object], str]:
    if name in ("min_age_years", "max_age_years"):
        return years
    if name == "phases":
        labels = dict(Phase.choices)
        return lambda value: ", ".join(labels.get(p, p) for p in value or []) or "Not stated"
    try:
        field = Trial._meta.get_field(name)
    except FieldDoesNotExist:
        return _text
    choices, default = dict(field.flatchoices), field.get_default()
    return lambda value: _text(choices.get(value, value) if value is not None else default)


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return "Not stated"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return _short(str(value))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"


def _mapping_change(label: str, old: dict, new: dict) -> FieldChange:
    return FieldChange(
        label,
        _count(len(old), ("field", "fields")),
        _count(len(new), ("field", "fields")),
        added=tuple(_short(f"{key}: {new[key]}") for key in new if key not in old),
        removed=tuple(_short(f"{key}: {old[key]}") for key in old if key not in new),
        changed=tuple(key for key in new if key in old and old[key] != new[key]),
    )


def _items(snapshot: dict, child: ChildList) -> list[dict]:
    items = snapshot.get(child.key, [])
    return [item for item in items if item.get("kind") == child.kind] if child.kind else items


def _count(number: int, nouns: tuple[str, str]) -> str:
    return f"{number} {nouns[0] if number == 1 else nouns[1]}"


def _list_change(child: ChildList, old: list[dict], new: list[dict]) -> FieldChange | None:
    if old == new:
        return None
    removed, added = _missing_from(new, old), _missing_from(old, new)
    removed_names, added_names = [_name(item, child) for item in removed], [_name(item, child) for item in added]
    changed = [name for name in dict.fromkeys(added_names) if name in removed_names]
    return FieldChange(
        child.label,
        _count(len(old), child.nouns),
        _count(len(new), child.nouns),
        added=tuple(name for name in added_names if name not in changed),
        removed=tuple(name for name in removed_names if name not in changed),
        changed=tuple(changed),
        note="" if added or removed else "same items in another order",
    )


def _missing_from(reference: list[dict], items: list[dict]) -> list[dict]:
    """The items not in the reference list (as many times as they are missing), in their order."""
    left = Counter(json.dumps(item, sort_keys=True) for item in reference)
    missing = []
    for item in items:
        key = json.dumps(item, sort_keys=True)
        if left[key]:
            left[key] -= 1
        else:
            missing.append(item)
    return missing


def _name(item: dict, child: ChildList) -> str:
    return _short(next((str(item[key]) for key in child.names if item.get(key)), "(unnamed)"))
