"""The comparison table of 2 to 6 trials: one column per trial, one row per attribute, grouped in sections.

Every cell carries what is shown (the registry's own wording where it has one) and a ``key``: the normalised
value rows are compared on, so ChiCTR's "男女均可 / Both" and ClinicalTrials.gov's "ALL" are the same sex.
Outcomes and eligibility criteria are lined up by meaning (``alignment``). Built from trials fetched
``with_full_record()``: reads only prefetched rows, never the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field

from . import alignment, languages
from .choices import ArmType, CriterionKind, InterventionType, OutcomeKind, Phase, SponsorRole
from .documents import partial_date
from .models import Trial

MAX_TRIALS = 6
MIN_TRIALS = 2
SITES_SHOWN = 10

# Ids are separated by commas, spaces or both: "NCT1,NCT2", "NCT1, NCT2", "NCT1 NCT2".
ID_SEPARATOR = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Text:
    """One value as shown: English and original-language wording, and a short muted note beside it."""

    english: str = ""
    original: str = ""
    language: str = ""
    note: str = ""

    def plain(self, lang: str = "both") -> str:
        """The value as one line of plain text (CSV), in the language the reader chose."""
        show_english, show_original = languages.shown(self.english, self.original, lang)
        text = " / ".join(part for part, show in ((self.english, show_english), (self.original, show_original)) if show)
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class Cell:
    """A trial's value for one row: its texts (several for a list), how the registry worded it, and the key."""

    texts: tuple[Text, ...] = ()
    key: Hashable = None
    wording: str = ""  # the registry's own word where it differs from the normalised label shown
    tag: str = ""  # primary / secondary for an outcome
    detail: Text | None = None  # an outcome's time frame
    link: str = ""

    def plain(self, lang: str = "both") -> str:
        values = "; ".join(text.plain(lang) for text in self.texts)
        extras = [
            f"registry: {self.wording}" if self.wording else "",
            f"time frame: {self.detail.plain(lang)}" if self.detail else "",
        ]
        extras = [extra for extra in extras if extra]
        value = f"{self.tag}: {values}" if self.tag and values else values
        return f"{value} ({'; '.join(extras)})" if extras else value


EMPTY = Cell()


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]
    differs: bool
    score: float | None = None  # for lined-up outcomes and criteria: the similarity that joined them
    missing: str = "Not stated"  # what an empty cell says
    lined_up: bool = False  # a row of similar outcomes or criteria, one per trial at most


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    rows: tuple[Row, ...]

    @property
    def differs(self) -> bool:
        return any(row.differs for row in self.rows)


@dataclass(frozen=True)
class Comparison:
    trials: tuple[Trial, ...]
    sections: tuple[Section, ...] = field(default=())

    @property
    def has_original_language(self) -> bool:
        return any(trial.original_language for trial in self.trials)

    @property
    def row_count(self) -> int:
        return sum(len(section.rows) for section in self.sections)

    @property
    def difference_count(self) -> int:
        return sum(row.differs for section in self.sections for row in section.rows)


def requested_ids(values: Sequence[str]) -> list[str]:
    """The ids of ``?ids=`` (one or more parameters, each a list), in order, blanks dropped."""
    return [registry_id for value in values for registry_id in ID_SEPARATOR.split(value) if registry_id]


def plausible_id(registry_id: str) -> bool:
    """Whether a typed id could be a registry id at all, and so is worth looking up (PostgreSQL refuses NUL)."""
    return len(registry_id) <= 64 and registry_id.isprintable()


def unique_ids(registry_ids: Sequence[str]) -> list[str]:
    """Each id once, the first spelling kept; ids differing only in case are the same id."""
    seen = {}
    for registry_id in registry_ids:
        seen.setdefault(registry_id.casefold(), registry_id)
    return list(seen.values())


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def text_cell(trial: Trial, name: str) -> Cell:
    """A bilingual text field (``name`` and ``name_original``), compared on its words whatever their case."""
    english, original = getattr(trial, name), getattr(trial, f"{name}_original", "")
    if not (english or original):
        return EMPTY
    return Cell((Text(english, original, trial.original_language),), key=_normalised(english or original))


def plain_cell(value: str | int | None, key: Hashable = None) -> Cell:
    if value in ("", None):
        return EMPTY
    return Cell((Text(str(value)),), key=value if key is None else key)


def choice_cell(trial: Trial, name: str, wording_field: str = "") -> Cell:
    """A normalised enumeration shown by its label, with the registry's own word where that says something else."""
    value, wording = getattr(trial, name), getattr(trial, wording_field) if wording_field else ""
    if not value:  # worded by the registry but not normalised: compared as worded
        return Cell((Text(wording),), key=("wording", _normalised(wording))) if wording else EMPTY
    label = getattr(trial, f"get_{name}_display")()
    said_otherwise = wording.casefold() not in (value.casefold(), label.casefold())
    return Cell((Text(label),), key=value, wording=wording if said_otherwise else "")


def flag_cell(value: bool | None) -> Cell:
    return EMPTY if value is None else Cell((Text("Yes" if value else "No"),), key=value)


def date_cell(trial: Trial, name: str) -> Cell:
    return plain_cell(partial_date(trial, name))


def list_cell(texts: Sequence[Text], key: Hashable = None) -> Cell:
    if not texts:
        return EMPTY
    return Cell(
        tuple(texts), key=key if key is not None else frozenset(_normalised(t.english or t.original) for t in texts)
    )


def years(value: float | None) -> str:
    """An age as the pages write it: 18 years, 6 months, or no limit."""
    if value is None:
        return "no limit"
    return f"{value:g} years" if value >= 1 else f"{value * 12:g} months"


def ages_cell(trial: Trial) -> Cell:
    if trial.min_age_years is None and trial.max_age_years is None and not (trial.min_age_text or trial.max_age_text):
        return EMPTY
    shown = f"{years(trial.min_age_years)} to {years(trial.max_age_years)}"
    wording = " / ".join(text for text in (trial.min_age_text, trial.max_age_text) if text)
    return Cell((Text(shown),), key=(trial.min_age_years, trial.max_age_years), wording=wording)


def enrolment_cell(trial: Trial) -> Cell:
    if trial.enrollment is None:
        return EMPTY
    counted = "actual" if trial.enrollment_actual is not None else "target"
    note = f"target {trial.enrollment_target}" if counted == "actual" and trial.enrollment_target else ""
    return Cell((Text(f"{trial.enrollment:,} ({counted})", note=note),), key=trial.enrollment)


def phases_cell(trial: Trial) -> Cell:
    if not trial.phases:
        return plain_cell(trial.phase_text)
    labels = dict(Phase.choices)
    shown = ", ".join(labels.get(phase, phase) for phase in trial.phases)
    wording = trial.phase_text if trial.phase_text and trial.phase_text != ", ".join(trial.phases) else ""
    return Cell((Text(shown),), key=tuple(sorted(trial.phases)), wording=wording)


def model_cell(trial: Trial) -> Cell:
    if trial.intervention_model:
        return choice_cell(trial, "intervention_model")
    # ClinicalTrials.gov's codes (COHORT, CASE_CONTROL, RETROSPECTIVE) read as words.
    words = [value.replace("_", " ").capitalize() for value in (trial.observational_model, trial.time_perspective)]
    return plain_cell(
        " · ".join(word for word in words if word), key=(trial.observational_model, trial.time_perspective)
    )


def masking_cell(trial: Trial) -> Cell:
    cell = choice_cell(trial, "masking", "blinding_text")
    if not trial.masking or not trial.who_masked:
        return cell
    masked = ", ".join(trial.who_masked).lower()
    return Cell(
        (Text(cell.texts[0].english, note=masked),),
        key=(trial.masking, tuple(sorted(trial.who_masked))),
        wording=cell.wording,
    )


def recruitment_cell(trial: Trial) -> Cell:
    start, end = partial_date(trial, "recruitment_start_date"), partial_date(trial, "recruitment_end_date")
    if not (start or end):
        return EMPTY
    return Cell((Text(f"{start or '…'} to {end or '…'}"),), key=(start, end))


def conditions_cell(trial: Trial) -> Cell:
    own = [c for c in trial.conditions.all() if not c.vocabulary]
    return list_cell([Text(c.name, c.name_original, trial.original_language) for c in own])


def mesh_cell(trial: Trial) -> Cell:
    return list_cell([Text(c.name) for c in trial.conditions.all() if c.vocabulary == "MeSH"])


def arms_cell(trial: Trial) -> Cell:
    types = dict(ArmType.choices)
    texts = []
    for arm in trial.arms.all():
        parts = [types.get(arm.type, arm.type_text), f"{arm.planned_size} planned" if arm.planned_size else ""]
        texts.append(Text(arm.label, arm.label_original, trial.original_language, " · ".join(p for p in parts if p)))
    return list_cell(texts)


def interventions_cell(trial: Trial) -> Cell:
    types = dict(InterventionType.choices)
    return list_cell(
        [
            Text(item.name, item.name_original, trial.original_language, types.get(item.type, item.type_text))
            for item in trial.interventions.all()
        ]
    )


def intervention_types_cell(trial: Trial) -> Cell:
    types = dict(InterventionType.choices)
    kinds = list(dict.fromkeys(item.type for item in trial.interventions.all() if item.type))
    return list_cell([Text(types[kind]) for kind in kinds], key=frozenset(kinds))


def sponsors_cell(trial: Trial, lead: bool) -> Cell:
    chosen = [s for s in trial.sponsors.all() if (s.role == SponsorRole.LEAD) == lead]
    roles = dict(SponsorRole.choices)
    return list_cell(
        [Text(s.name, s.name_original, trial.original_language, "" if lead else roles.get(s.role, "")) for s in chosen]
    )


def countries_cell(trial: Trial) -> Cell:
    return list_cell([Text(country) for country in trial.countries])


def sites_cell(trial: Trial) -> Cell:
    sites = list(trial.sites.all())
    texts = [
        Text(
            site.facility,
            site.facility_original,
            trial.original_language,
            ", ".join(p for p in (site.city, site.country) if p),
        )
        for site in sites[:SITES_SHOWN]
        if site.facility or site.facility_original
    ]
    if len(sites) > SITES_SHOWN:
        texts.append(Text(f"and {len(sites) - SITES_SHOWN} more"))
    return list_cell(texts, key=frozenset(_normalised(site.facility or site.facility_original) for site in sites))


def identifiers_cell(trial: Trial) -> Cell:
    """Secondary ids and ids in other registries: the same trial registered twice shows here."""
    identifiers = list(trial.identifiers.all())
    texts = [Text(identifier.value, note=identifier.type) for identifier in identifiers]
    return list_cell(texts, key=frozenset(identifier.value.casefold() for identifier in identifiers))


def registry_link_cell(trial: Trial) -> Cell:
    if not trial.source_url.startswith(("https://", "http://")):
        return EMPTY  # links only to web pages: a record's URL is registry data, and could say javascript:
    return Cell((Text(f"View on {trial.get_registry_display()}"),), key=trial.source_url, link=trial.source_url)


def count_cell(count: int) -> Cell:
    return Cell((Text(str(count)),), key=count)


# Sections of plain attributes, (slug, title, ((row label, a trial's cell), ...)): those before the lined-up
# outcomes and criteria, then those after them.
Attribute = tuple[str, Callable[[Trial], Cell]]
SECTIONS_BEFORE: tuple[tuple[str, str, tuple[Attribute, ...]], ...] = (
    (
        "identity",
        "Identity",
        (
            ("Registry", lambda t: choice_cell(t, "registry")),
            ("Registry id", lambda t: plain_cell(t.registry_id, key=t.registry_id.casefold())),
            ("Public title", lambda t: text_cell(t, "public_title")),
            ("Scientific title", lambda t: text_cell(t, "scientific_title")),
            ("Acronym", lambda t: text_cell(t, "acronym")),
            ("Other ids", identifiers_cell),
            ("On the registry", registry_link_cell),
        ),
    ),
    (
        "status",
        "Status and dates",
        (
            ("Status", lambda t: choice_cell(t, "status", "status_text")),
            ("Study start", lambda t: date_cell(t, "start_date")),
            ("Primary completion", lambda t: date_cell(t, "primary_completion_date")),
            ("Completion", lambda t: date_cell(t, "completion_date")),
            ("Recruitment", recruitment_cell),
        ),
    ),
    (
        "design",
        "Design",
        (
            ("Study type", lambda t: choice_cell(t, "study_type", "study_type_text")),
            ("Phase", phases_cell),
            ("Allocation", lambda t: choice_cell(t, "allocation")),
            ("Model", model_cell),
            ("Masking", masking_cell),
            ("Primary purpose", lambda t: choice_cell(t, "primary_purpose")),
            ("Design as registered", lambda t: text_cell(t, "design_text")),
        ),
    ),
    (
        "population",
        "Population",
        (
            ("Conditions", conditions_cell),
            ("MeSH terms", mesh_cell),
            ("Ages", ages_cell),
            ("Sex", lambda t: choice_cell(t, "sex", "sex_text")),
            ("Healthy volunteers", lambda t: flag_cell(t.healthy_volunteers)),
            ("Enrolment", enrolment_cell),
        ),
    ),
    (
        "arms",
        "Arms and interventions",
        (
            ("Number of arms", lambda t: count_cell(len(t.arms.all()))),
            ("Arms / groups", arms_cell),
            ("Intervention types", intervention_types_cell),
            ("Interventions", interventions_cell),
        ),
    ),
)
SECTIONS_AFTER: tuple[tuple[str, str, tuple[Attribute, ...]], ...] = (
    (
        "sponsors",
        "Sponsors and funding",
        (
            ("Lead sponsor", lambda t: sponsors_cell(t, lead=True)),
            ("Collaborators", lambda t: sponsors_cell(t, lead=False)),
            ("Funding", lambda t: text_cell(t, "funding")),
            ("Responsible party", lambda t: plain_cell(t.responsible_party, key=_normalised(t.responsible_party))),
        ),
    ),
    (
        "ethics",
        "Ethics and oversight",
        (
            ("Ethics approval", lambda t: flag_cell(t.ethics_approved)),
            ("Approval number", lambda t: plain_cell(t.ethics_approval_number)),
            ("Approved on", lambda t: date_cell(t, "ethics_approval_date")),
            ("Committee", lambda t: text_cell(t, "ethics_committee")),
            ("Data monitoring committee", lambda t: flag_cell(t.has_dmc)),
        ),
    ),
    (
        "sharing",
        "Data sharing",
        (
            ("Individual participant data", lambda t: choice_cell(t, "ipd_sharing", "ipd_sharing_text")),
            ("Sharing statement", lambda t: text_cell(t, "ipd_sharing_description")),
        ),
    ),
    (
        "sites",
        "Sites and countries",
        (
            ("Countries", countries_cell),
            ("Number of sites", lambda t: count_cell(len(t.sites.all()))),
            ("Sites", sites_cell),
        ),
    ),
    (
        "registration",
        "Registration",
        (
            ("Registered on", lambda t: date_cell(t, "registration_date")),
            ("Registration timing", lambda t: choice_cell(t, "registration_timing")),
            ("First posted", lambda t: date_cell(t, "first_posted_date")),
            ("Last update", lambda t: date_cell(t, "last_update_date")),
        ),
    ),
)


def attribute_row(label: str, trials: Sequence[Trial], cell_of: Callable[[Trial], Cell]) -> Row:
    cells = tuple(cell_of(trial) for trial in trials)
    return Row(label, cells, differs=len({cell.key for cell in cells}) > 1)


def attribute_section(slug: str, title: str, attributes: Sequence[Attribute], trials: Sequence[Trial]) -> Section:
    return Section(slug, title, tuple(attribute_row(label, trials, cell_of) for label, cell_of in attributes))


def aligned_rows(
    trials: Sequence[Trial],
    children: Sequence[Sequence],
    texts_of: Callable[[object], tuple[str, str]],
    cell_of: Callable[[object, Trial], Cell],
    label: Callable[[list], str],
) -> list[Row]:
    """Rows of similar children (outcomes or criteria), given one list of children per trial.

    A row differs when a trial has nothing in it, or when its cells' keys differ (an outcome primary in one
    trial and secondary in another).
    """
    items = [
        alignment.Item(column, position, *texts_of(child))
        for column, trial_children in enumerate(children)
        for position, child in enumerate(trial_children)
    ]
    rows = []
    for aligned in alignment.align(items):
        members = [aligned.item_in(column) for column in range(len(trials))]
        chosen = [children[item.column][item.position] if item else None for item in members]
        cells = tuple(
            cell_of(child, trial) if child is not None else EMPTY for child, trial in zip(chosen, trials, strict=True)
        )
        keys = {cell.key for cell in cells if cell is not EMPTY}
        differs = None in chosen or len(keys) > 1
        rows.append(
            Row(label([c for c in chosen if c is not None]), cells, differs, aligned.score, "No similar item", True)
        )
    return rows


def outcome_cell(outcome, trial: Trial) -> Cell:
    language = trial.original_language
    has_time_frame = outcome.time_frame or outcome.time_frame_original
    return Cell(
        (Text(outcome.measure, outcome.measure_original, language),),
        key=outcome.kind,
        tag=outcome.get_kind_display(),
        detail=Text(outcome.time_frame, outcome.time_frame_original, language) if has_time_frame else None,
    )


def outcome_label(outcomes: list) -> str:
    kinds = {outcome.kind for outcome in outcomes}
    return f"{OutcomeKind(kinds.pop()).label} outcome" if len(kinds) == 1 else "Outcome (kinds differ)"


def outcomes_section(trials: Sequence[Trial]) -> Section:
    """Outcomes lined up by meaning whatever their kind, so that a trial's primary outcome meets the same measure
    another trial lists as secondary; primary outcomes first."""
    order = {kind: number for number, kind in enumerate(OutcomeKind.values)}
    children = [sorted(trial.outcomes.all(), key=lambda o: (order.get(o.kind, 9), o.position)) for trial in trials]
    rows = aligned_rows(trials, children, lambda o: (o.measure, o.measure_original), outcome_cell, outcome_label)
    return Section("outcomes", "Outcomes", tuple(rows))


def criterion_cell(criterion, trial: Trial) -> Cell:
    return Cell((Text(criterion.text, criterion.text_original, trial.original_language),), key=criterion.kind)


def criteria_section(trials: Sequence[Trial]) -> Section:
    """Inclusion criteria lined up with inclusion criteria, exclusion with exclusion; where a registry gives the
    criteria only as one block of text, that block."""
    rows = []
    for kind in CriterionKind:
        children = [[c for c in trial.criteria.all() if c.kind == kind] for trial in trials]
        rows += aligned_rows(
            trials,
            children,
            lambda c: (c.text, c.text_original),
            criterion_cell,
            lambda _, k=kind: f"{k.label} criterion",
        )
    if any(
        not trial.criteria.all() and (trial.eligibility_text or trial.eligibility_text_original) for trial in trials
    ):
        rows.append(
            attribute_row(
                "Criteria as registered",
                trials,
                lambda t: EMPTY if t.criteria.all() else text_cell(t, "eligibility_text"),
            )
        )
    return Section("criteria", "Eligibility criteria", tuple(rows))


def compare(trials: Sequence[Trial]) -> Comparison:
    """The comparison table of trials fetched ``with_full_record()``, in the order given."""
    sections = [attribute_section(slug, title, attributes, trials) for slug, title, attributes in SECTIONS_BEFORE]
    sections += [outcomes_section(trials), criteria_section(trials)]
    sections += [attribute_section(slug, title, attributes, trials) for slug, title, attributes in SECTIONS_AFTER]
    return Comparison(tuple(trials), tuple(sections))


def csv_rows(table: Comparison, lang: str = "both", only_differences: bool = False) -> Iterator[list[str]]:
    """The table as CSV lines: section, attribute, whether the trials differ, then one column per trial."""
    yield ["section", "attribute", "differs", *(trial.registry_id for trial in table.trials)]
    for section in table.sections:
        for row in section.rows:
            if row.differs or not only_differences:
                cells = [cell.plain(lang) for cell in row.cells]
                yield [section.title, row.label, "yes" if row.differs else "no", *cells]
