from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from . import exports
from .documents import trial_document
from .filters import TrialFilter
from .models import SourceRecord, Trial
from .search.engine import SORTS, Search

LANGUAGES = {"both": "Both languages", "en": "English", "original": "Original language"}


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


def _trial_or_redirect(registry_id: str, view_name: str) -> Trial | HttpResponse:
    trial = Trial.objects.with_full_record().by_registry_id(registry_id).first()
    if trial is None:
        # Ids are typed in any case (nct06731192); send the reader to the registry's spelling.
        other = Trial.objects.filter(registry_id__iexact=registry_id).only("registry_id").first()
        if other is None:
            raise Http404(f"No trial {registry_id} is registered here.")
        return redirect(view_name, registry_id=other.registry_id, permanent=True)
    return trial


def trial_detail(request: HttpRequest, registry_id: str) -> HttpResponse:
    trial = _trial_or_redirect(registry_id, "trials:detail")
    if isinstance(trial, HttpResponse):
        return trial
    lang = request.GET.get("lang") if request.GET.get("lang") in LANGUAGES else "both"
    context = {"trial": trial, "lang": lang, "languages": LANGUAGES.items()}
    return render(request, "trials/detail.html", context)


def trial_json(request: HttpRequest, registry_id: str) -> HttpResponse:
    trial = _trial_or_redirect(registry_id, "trials:json")
    if isinstance(trial, HttpResponse):
        return trial
    return JsonResponse(trial_document(trial), json_dumps_params={"ensure_ascii": False, "indent": 2})


def trial_source(request: HttpRequest, registry_id: str, source_id: int) -> HttpResponse:
    """One stored raw record, as plain text so that nothing in it is ever interpreted by the browser."""
    source = get_object_or_404(SourceRecord, pk=source_id, trial__registry_id=registry_id)
    response = HttpResponse(source.text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{registry_id}-{source.checksum[:12]}.txt"'
    return response
