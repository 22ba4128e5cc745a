from __future__ import annotations

import csv
from dataclasses import dataclass, field

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import charts, comparison, exports, history, tray
from .alongside import alongside
from .documents import trial_document
from .filters import TrialFilter
from .languages import LANGUAGES, chosen
from .models import SourceRecord, Trial
from .search.engine import SORTS, Search


def _search(request: HttpRequest) -> Search:
    filters = TrialFilter(request.GET, queryset=Trial.objects.all())
    return Search(request.GET.get("q", ""), filters, request.GET.get("sort", "relevance"))


def search(request: HttpRequest) -> HttpResponse:
    """The home page: the search box, filters with counts, and one page of results."""
    current = _search(request)
    results = current.results(request.GET.get("page"))
    context = {"results": results, "filters": current.filters, "sorts": SORTS, "q": request.GET.get("q", "")}
    return render(request, "trials/search.html", context)


def export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    """Every trial the search matches, in the page's order, streamed as CSV or JSON."""
    current = _search(request)
    trials = current.ordered(current.matches(), current.measure())[0]
    rows = exports.rows(trials)
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(exports.json_chunks(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="trials.{fmt}"'
    return response


def _trial_or_redirect(registry_id: str, view_name: str, trials: QuerySet[Trial]) -> Trial | HttpResponse:
    trial = trials.by_registry_id(registry_id).first()
    if trial is None:
        # Ids are typed in any case (nct06731192); send the reader to the registry's spelling.
        other = Trial.objects.filter(registry_id__iexact=registry_id).only("registry_id").first()
        if other is None:
            raise Http404(f"No trial {registry_id} is registered here.")
        return redirect(view_name, registry_id=other.registry_id, permanent=True)
    return trial


def trial_detail(request: HttpRequest, registry_id: str) -> HttpResponse:
    trial = _trial_or_redirect(registry_id, "trials:detail", Trial.objects.all())
    if isinstance(trial, HttpResponse):
        return trial
    registrations = alongside(Trial.objects.registered_elsewhere, [trial])
    Trial.objects.read_full_record([trial], history=True)
    context = {
        "trial": trial,
        "versions": history.versions(trial.sources.all()),
        "registrations": registrations()[trial.pk],
        "lang": chosen(request.GET.get("lang")),
        "languages": LANGUAGES.items(),
    }
    return render(request, "trials/detail.html", context)


def trial_json(request: HttpRequest, registry_id: str) -> HttpResponse:
    trial = _trial_or_redirect(registry_id, "trials:json", Trial.objects.all())
    if isinstance(trial, HttpResponse):
        return trial
    Trial.objects.read_full_record([trial])
    return JsonResponse(trial_document(trial), json_dumps_params={"ensure_ascii": False, "indent": 2})


def trial_source(request: HttpRequest, registry_id: str, source_id: int) -> HttpResponse:
    """One stored raw record, as plain text so that nothing in it is ever interpreted by the browser."""
    source = get_object_or_404(SourceRecord, pk=source_id, trial__registry_id=registry_id)
    response = HttpResponse(source.text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{registry_id}-{source.checksum[:12]}.txt"'
    return response


@dataclass
class Selection:
    """The trials a compare URL names, or why they cannot be compared (``problem``, answered with ``status``)."""

    trials: list[Trial] = field(default_factory=list)
    problem: str = ""
    status: int = 200
    redirect_ids: list[str] = field(default_factory=list)  # the same ids, each once, in the registry's spelling


def _select(request: HttpRequest) -> Selection:
    typed = comparison.requested_ids(request.GET.getlist("ids"))
    ids = comparison.unique_ids(typed)
    if not ids:
        return Selection(problem="Choose 2 to 6 trials to compare: add them from search results or trial pages.")
    if len(ids) > comparison.MAX_TRIALS:
        return Selection(
            problem=f"{len(ids)} trials were asked for; at most {comparison.MAX_TRIALS} can be compared side by side.",
            status=400,
        )
    searched = [registry_id for registry_id in ids if comparison.plausible_id(registry_id)]
    trials = Trial.objects.read_full_record(list(Trial.objects.by_registry_ids(searched)))
    found = {trial.registry_id: trial for trial in trials}
    spelled = Trial.objects.spellings(i for i in searched if i not in found) if len(found) < len(ids) else {}
    canonical = [i if i in found else spelled.get(i.casefold(), i) for i in ids]
    if canonical != typed:
        return Selection(redirect_ids=canonical)
    selection = Selection(trials=[found[i] for i in ids if i in found])
    unknown = [i for i in ids if i not in found]
    if unknown:
        selection.problem = f"No trial is registered here as {', '.join(unknown)}."
    if len(selection.trials) < comparison.MIN_TRIALS:
        selection.problem = " ".join(filter(None, [selection.problem, "Choose at least 2 trials to compare."]))
        selection.status = 400
    return selection


def _with_ids(request: HttpRequest, view_name: str, registry_ids: list[str]) -> str:
    """The URL of ``view_name`` with these ids and the request's other parameters (language, differences only)."""
    query = request.GET.copy()
    query.setlist("ids", [",".join(registry_ids)])
    return reverse(view_name) + "?" + query.urlencode(safe=",/")


def compare(request: HttpRequest) -> HttpResponse:
    """2 to 6 trials side by side: ``?ids=A,B,...``, with ``lang=en|original|both`` and ``diff=1``."""
    selection = _select(request)
    if selection.redirect_ids:
        # Repeated ids, or ids typed in another case: one URL per comparison, so that links to it agree.
        return redirect(_with_ids(request, "trials:compare", selection.redirect_ids))
    trials = selection.trials
    table = comparison.compare(trials) if len(trials) >= comparison.MIN_TRIALS else None
    droppable = len(trials) > comparison.MIN_TRIALS  # a column can go while two would remain
    context = {
        "selection": selection,
        "table": table,
        "charts": charts.charts(trials) if table else (),
        "lang": chosen(request.GET.get("lang")),
        "languages": LANGUAGES.items(),
        "only_differences": request.GET.get("diff") == "1",
        "columns": [
            (trial, _with_ids(request, "trials:compare", [t.registry_id for t in trials if t is not trial]))
            if droppable
            else (trial, "")
            for trial in trials
        ],
    }
    return render(request, "trials/compare.html", context, status=selection.status)


def compare_csv(request: HttpRequest) -> HttpResponse:
    """The comparison table as CSV: one line per row, one column per trial."""
    selection = _select(request)
    if selection.redirect_ids:
        return redirect(_with_ids(request, "trials:compare-csv", selection.redirect_ids))
    if len(selection.trials) < comparison.MIN_TRIALS:
        return HttpResponse(selection.problem, status=400, content_type="text/plain; charset=utf-8")
    table = comparison.compare(selection.trials)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="comparison.csv"'
    response.write("\ufeff")  # the BOM makes spreadsheet programs read the Chinese text as UTF-8
    rows = comparison.csv_rows(table, chosen(request.GET.get("lang")), only_differences=request.GET.get("diff") == "1")
    csv.writer(response).writerows([exports.spreadsheet_safe(cell) for cell in row] for row in rows)
    return response


def _local_next(request: HttpRequest) -> str:
    """Where a tray form came from, if that is a path on this site (never another host)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return target
    return reverse("trials:search")


@require_POST
def tray_change(request: HttpRequest) -> HttpResponse:
    """Add a trial to the comparison tray, remove one, or empty it; then back to the page the form was on.

    Asked with ``X-Tray: fragment`` (by static/js/tray.js), answers with the tray's HTML instead of a redirect.
    """
    # The button pressed names the change and holds the trial: one form serves a whole page of results.
    action = next((name for name in ("add", "remove", "clear") if name in request.POST), None)
    registry_id = request.POST.get(action, "").strip() if action else ""
    if action == "add" and not comparison.plausible_id(registry_id):
        message = "That is not a registry id."
    elif action == "add":
        titles = Trial.objects.only("registry_id", "public_title", "public_title_original")
        trial = titles.by_registry_id(registry_id).first() or titles.filter(registry_id__iexact=registry_id).first()
        if trial is None:
            message = f"No trial is registered here as {registry_id}."
        else:
            message = tray.add(request.session, trial.registry_id, trial.public_title or trial.public_title_original)
    elif action == "remove":
        message = tray.remove(request.session, registry_id)
    elif action == "clear":
        message = tray.clear(request.session)
    else:
        return HttpResponse("Unknown action.", status=400, content_type="text/plain; charset=utf-8")
    next_url = _local_next(request)
    if request.headers.get("X-Tray") == "fragment":
        return render(request, "trials/_tray.html", {"tray_message": message, "tray_next": next_url})
    messages.info(request, message)
    return redirect(next_url)
