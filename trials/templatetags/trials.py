from urllib.parse import urlencode

from django import template
from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from trials import languages
from trials.choices import CriterionKind, OutcomeKind, Phase
from trials.comparison import years
from trials.documents import partial_date
from trials.registrations import registry_name

register = template.Library()


@register.inclusion_tag("trials/_bilingual.html", takes_context=True)
def bilingual(context, english: str, original: str = "", block: bool = False, language: str = ""):
    """English and original-language text, as the reader chose with ?lang=both|en|original.

    ``language`` is the original text's language, where it is not the page's trial's (the compare page)."""
    lang = context.get("lang", "both")
    if original == english:
        original = ""
    show_english, show_original = languages.shown(english, original, lang)
    trial = context.get("trial")
    return {
        "english": english,
        "original": original,
        "original_language": language or getattr(trial, "original_language", "") or "und",
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


register.filter("years", years)
register.filter("registry_name", registry_name)


@register.filter
def grouped_by_kind(items) -> list[tuple[str, list]]:
    """Outcomes or criteria in the registry's order, grouped primary/secondary/other or inclusion/exclusion."""
    items = list(items)
    kinds = OutcomeKind if items and items[0].kind in OutcomeKind.values else CriterionKind
    groups = [(kind.label, [item for item in items if item.kind == kind]) for kind in kinds]
    return [(label, members) for label, members in groups if members]


@register.simple_tag(takes_context=True)
def facet_section(context, facet) -> SafeString:
    """A facet's values as links choosing them (or, when chosen, removing them), each with its count.

    Built in Python like search_result: a page shows about a hundred values (a page's templates, rendered
    alternately with and without this: 5.4 ms against 6.7 ms). Every registry string (values, sponsors' names) is
    escaped where it is placed."""
    items = []
    for item in facet.values:
        href = facet_query(context, facet.name, item.value, item.selected)
        count = format_html(
            '<span class="n" title="{}">{}</span>', "trials" if item.count.exact else "estimated trials", item.count
        )
        if item.selected:
            link = format_html(
                '<a href="{}" aria-current="true" title="Remove this filter"><span aria-hidden="true">✕ </span>'
                '<span class="visually-hidden">Remove filter: </span>{}</a>',
                href,
                item.label,
            )
            items.append(format_html('<li class="selected">{} {}</li>', link, count))
        else:
            items.append(format_html('<li><a href="{}">{}</a> {}</li>', href, item.label, count))
    hidden = (
        format_html('<p class="help">and {} more; narrow the search to see them.</p>', facet.hidden)
        if facet.hidden
        else ""
    )
    return format_html(
        '<section class="facet" aria-labelledby="facet-{}">\n  <h3 id="facet-{}">{}</h3>\n  <ul>\n    {}\n  </ul>{}\n'
        "</section>\n",
        facet.name,
        facet.name,
        facet.label,
        mark_safe("\n    ".join(items)),
        hidden,
    )


@register.simple_tag(takes_context=True)
def facet_query(context, name: str, value: str, selected: bool) -> str:
    """The query string after clicking a facet value: a chosen value is dropped, another one replaces the
    facet's choice (so the result count is the count shown beside it). Other parameters stay; paging restarts."""
    others, chosen = _facet_query_parts(context, name)
    values = [v for v in chosen if v != value] if selected else [value]
    return "?" + "&".join(part for part in (others, urlencode([(name, v) for v in values])) if part)


def _facet_query_parts(context, name: str) -> tuple[str, list[str]]:
    """The request's other parameters, encoded, and the facet's chosen values: read once per page and facet, not
    once per value (a page links some hundred values)."""
    parts = context.render_context.get("facet_query_parts")
    if parts is None:
        parts = context.render_context["facet_query_parts"] = {}
    if name not in parts:
        query = [(key, values) for key, values in context["request"].GET.lists() if key != "page" and any(values)]
        others = urlencode([(key, v) for key, values in query if key != name for v in values if v])
        parts[name] = others, dict(query).get(name, [])
    return parts[name]


@register.simple_tag(takes_context=True)
def search_result(context, trial) -> SafeString:
    """One trial in a page of search results: id, registry, status, phases, enrolment, titles, conditions and
    countries, the snippet, its other registrations and its comparison button.

    Built in Python, like compare_row: through the template language's lookups, filters and conditions the 25
    results of a page took a quarter of the page's rendering (a page's templates, rendered alternately with and
    without this: 9.0 ms against 11.1 ms). Every string from the registry is escaped where it is placed.
    """
    url = trial.get_absolute_url()
    meta = [
        format_html('<a href="{}"><strong>{}</strong></a>', url, trial.registry_id),
        escape(trial.get_registry_display()),
    ]
    if trial.status:
        status = format_html(
            '<span class="status status-{}">{}</span>', trial.status.lower(), trial.get_status_display()
        )
        meta.append(status)
    if trial.phases:
        meta.append(escape(phase_labels(trial.phases)))
    if trial.enrollment is not None:
        meta.append(f"{trial.enrollment} participants")
    parts = [
        format_html('<p class="meta">{}</p>', mark_safe(" · ".join(meta))),
        format_html('<h2><a href="{}">{}</a></h2>', url, trial.public_title or trial.public_title_original),
    ]
    if trial.public_title_original and trial.public_title:
        parts.append(
            format_html(
                '<p class="original title-original" lang="{}">{}</p>',
                trial.original_language or "zh",
                trial.public_title_original,
            )
        )
    conditions, countries = trial.condition_names, trial.countries
    if conditions or countries:
        between = " · " if conditions and countries else ""
        parts.append(format_html('<p class="meta">{}{}{}</p>', "; ".join(conditions), between, ", ".join(countries)))
    if trial.snippet:
        parts.append(format_html('<p class="snippet">{}</p>', trial.snippet))
    if trial.registrations:
        links = render_to_string("trials/_registrations.html", {"registrations": trial.registrations})
        parts.append(format_html('<div class="meta also"><span>Also registered as</span> {}</div>', mark_safe(links)))
    parts.append(format_html('<p class="result-compare">{}</p>', tray_button(context, trial, form="tray-results")))
    return format_html('<li class="result">\n  {}\n</li>\n', mark_safe("\n  ".join(parts)))


@register.simple_tag(takes_context=True)
def tray_button(context, trial, form: str = "") -> SafeString:
    """The button putting a trial in the comparison tray, or taking it out when it is there; `form` names the tray
    form when the button sits outside it (search results, inside the search form)."""
    form_attribute = format_html(' form="{}"', form) if form else ""
    if trial.registry_id in context.get("tray_ids", ()):
        change, label = "remove", "✓ In comparison: remove"
    else:
        change, label = "add", "Add to comparison"
    return format_html(
        '<button name="{}" value="{}" class="secondary tray-toggle"{}>{}</button>',
        change,
        trial.registry_id,
        form_attribute,
        label,
    )


@register.filter
def phase_labels(phases) -> str:
    """["PHASE2", "PHASE3"] as "Phase 2, Phase 3"."""
    labels = dict(Phase.choices)
    return ", ".join(labels.get(phase, phase) for phase in phases)


def _bilingual_html(text, lang: str) -> str:
    """What _bilingual.html shows for a comparison Text, every registry string escaped (see compare_row)."""
    show_english, show_original = languages.shown(text.english, text.original, lang)
    parts = []
    if show_english:
        parts.append(f'<span lang="en">{escape(text.english)}</span>')
    if show_original:
        parts.append(f'<span class="original" lang="{escape(text.language or "und")}">{escape(text.original)}</span>')
    note = f' <span class="muted">· {escape(text.note)}</span>' if text.note else ""
    return "<br>".join(parts) + note


def _compare_cell(cell, row, lang: str) -> str:
    if not cell.texts and row.lined_up:  # a dash keeps long lists of criteria readable
        return (
            f'<span class="none" aria-hidden="true">—</span><span class="visually-hidden">{escape(row.missing)}</span>'
        )
    if not cell.texts:
        return f'<span class="muted">{escape(row.missing)}</span>'
    html = f'<span class="tag">{escape(cell.tag)}</span> ' if cell.tag else ""
    if cell.link:
        html += f'<a href="{escape(cell.link)}" rel="noopener external">{escape(cell.texts[0].english)}</a>'
    elif len(cell.texts) == 1:
        html += _bilingual_html(cell.texts[0], lang)
    else:
        html += '<ul class="values">' + "".join(f"<li>{_bilingual_html(t, lang)}</li>" for t in cell.texts) + "</ul>"
    if cell.wording:
        html += f' <span class="muted wording">(registry: {escape(cell.wording)})</span>'
    if cell.detail:
        html += (
            f'<span class="detail"><span class="label">Time frame:</span> {_bilingual_html(cell.detail, lang)}</span>'
        )
    return html


@register.simple_tag(takes_context=True)
def compare_row(context, row) -> SafeString:
    """One row of the comparison table: its label, whether it differs, and one cell per trial.

    Built in Python rather than by template loops and partials: six trials make a hundred rows and hundreds of
    cells, and rendering them through the template language took longer than reading the trials. Every string
    from the registry is escaped where it is placed.
    """
    lang = context.get("lang", "both")
    mark = (
        ' <span class="mark" title="The trials differ here">≠<span class="visually-hidden"> (differs)</span></span>'
        if row.differs
        else ""
    )
    score = f'<span class="score">similarity {row.score:.2f}</span>' if row.score is not None else ""
    cells = "".join(f"<td>{_compare_cell(cell, row, lang)}</td>" for cell in row.cells)
    state = "differs" if row.differs else "same"
    return mark_safe(f'<tr class="{state}"><th scope="row">{escape(row.label)}{mark}{score}</th>{cells}</tr>')
