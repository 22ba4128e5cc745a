from urllib.parse import urlencode

from django import template

from trials.choices import CriterionKind, OutcomeKind, Phase
from trials.documents import partial_date

register = template.Library()


@register.inclusion_tag("trials/_bilingual.html", takes_context=True)
def bilingual(context, english: str, original: str = "", block: bool = False):
    """English and original-language text, as the reader chose with ?lang=both|en|original."""
    lang = context.get("lang", "both")
    if original == english:
        original = ""
    show_english = bool(english) and (lang != "original" or not original)
    show_original = bool(original) and (lang != "en" or not english)
    trial = context.get("trial")
    return {
        "english": english,
        "original": original,
        "original_language": getattr(trial, "original_language", "") or "und",
        "show_english": show_english,
        "show_original": show_original,
        "block": block,
    }


@register.simple_tag
def trial_date(trial, name: str) -> str:
    return partial_date(trial, name) or ""


@register.filter
def yes_no_unknown(value) -> str:
    return {True: "Yes", False: "No"}.get(value, "Not stated")


@register.filter
def years(value) -> str:
    if value is None:
        return "no limit"
    return f"{value:g} years" if value >= 1 else f"{value * 12:g} months"


@register.filter
def grouped_by_kind(items) -> list[tuple[str, list]]:
    """Outcomes or criteria in the registry's order, grouped primary/secondary/other or inclusion/exclusion."""
    items = list(items)
    kinds = OutcomeKind if items and items[0].kind in OutcomeKind.values else CriterionKind
    groups = [(kind.label, [item for item in items if item.kind == kind]) for kind in kinds]
    return [(label, members) for label, members in groups if members]


@register.simple_tag(takes_context=True)
def facet_query(context, name: str, value: str, selected: bool) -> str:
    """The query string after clicking a facet value: a chosen value is dropped, another one replaces the
    facet's choice (so the result count is the count shown beside it). Other parameters stay; paging restarts."""
    if "facet_query_base" not in context.render_context:
        # Read the request's parameters once per page, not once per facet value.
        query = context["request"].GET
        context.render_context["facet_query_base"] = [
            (key, values) for key, values in query.lists() if key != "page" and any(values)
        ]
    pairs = []
    for key, values in context.render_context["facet_query_base"]:
        if key != name:
            pairs.extend((key, v) for v in values if v)
    chosen = [v for v in dict(context.render_context["facet_query_base"]).get(name, []) if v != value]
    pairs.extend((name, v) for v in (chosen if selected else [value]))
    return "?" + urlencode(pairs)


@register.filter
def phase_labels(phases) -> str:
    """["PHASE2", "PHASE3"] as "Phase 2, Phase 3"."""
    labels = dict(Phase.choices)
    return ", ".join(labels.get(phase, phase) for phase in phases)
