from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from .documents import trial_document
from .models import SourceRecord, Trial

PAGE_SIZE = 25
LANGUAGES = {"both": "Both languages", "en": "English", "original": "Original language"}


def trial_list(request: HttpRequest) -> HttpResponse:
    trials = Trial.objects.newest_first().with_listing_data()
    page = Paginator(trials, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "trials/list.html", {"page": page})


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
