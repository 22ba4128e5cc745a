"""The public JSON form of a trial (the contract in docs: "JSON of one trial")."""

from __future__ import annotations

import datetime

from .models import DATE_FIELDS, Trial


def partial_date(trial: Trial, name: str) -> str | None:
    """ISO date cut to the precision the registry gave: 2025-07-30, 2025-07 or 2025."""
    value: datetime.date | None = getattr(trial, name)
    if value is None:
        return None
    precision = getattr(trial, f"{name}_precision")
    return {"month": value.isoformat()[:7], "year": value.isoformat()[:4]}.get(precision, value.isoformat())


def _or_none(value):
    return None if value in ("", None) else value


def _years(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def trial_document(trial: Trial) -> dict:
    """A trial fetched ``with_full_record()`` as the contract's dict; reads only prefetched rows."""
    conditions = list(trial.conditions.all())
    criteria = list(trial.criteria.all())
    return {
        "registry": trial.registry,
        "registry_id": trial.registry_id,
        "source_url": _or_none(trial.source_url),
        "public_title": trial.public_title or trial.public_title_original,
        "public_title_original": _or_none(
            trial.public_title_original if trial.public_title_original != trial.public_title else ""
        ),
        "scientific_title": _or_none(trial.scientific_title),
        "scientific_title_original": _or_none(trial.scientific_title_original),
        "acronym": _or_none(trial.acronym),
        "acronym_original": _or_none(trial.acronym_original),
        "status": _or_none(trial.status),
        "status_text": _or_none(trial.status_text),
        "study_type": _or_none(trial.study_type),
        "phases": list(trial.phases),
        "design": {
            "allocation": _or_none(trial.allocation),
            "intervention_model": _or_none(trial.intervention_model),
            "observational_model": _or_none(trial.observational_model),
            "time_perspective": _or_none(trial.time_perspective),
            "masking": _or_none(trial.masking),
            "who_masked": list(trial.who_masked),
            "primary_purpose": _or_none(trial.primary_purpose),
            "text": _or_none(trial.design_text),
            "text_original": _or_none(trial.design_text_original),
        },
        "enrollment": trial.enrollment,
        "enrollment_target": trial.enrollment_target,
        "enrollment_actual": trial.enrollment_actual,
        "registration_timing": _or_none(trial.registration_timing),
        "dates": {name.removesuffix("_date"): partial_date(trial, name) for name in DATE_FIELDS},
        "brief_summary": _or_none(trial.brief_summary),
        "description": _or_none(trial.description),
        "objectives": _or_none(trial.objectives),
        "objectives_original": _or_none(trial.objectives_original),
        "conditions": [condition.name for condition in conditions if not condition.vocabulary],
        "conditions_original": [c.name_original for c in conditions if not c.vocabulary and c.name_original],
        "mesh_terms": [condition.name for condition in conditions if condition.vocabulary == "MeSH"],
        "keywords": [keyword.name for keyword in trial.keywords.all()],
        "arms": [
            {
                "label": arm.label,
                "label_original": _or_none(arm.label_original),
                "type": _or_none(arm.type or arm.type_text),
                "description": _or_none(arm.description),
                "planned_size": arm.planned_size,
            }
            for arm in trial.arms.all()
        ],
        "interventions": [
            {
                "name": item.name,
                "name_original": _or_none(item.name_original),
                "type": _or_none(item.type or item.type_text),
                "description": _or_none(item.description),
                "arm_labels": [arm.label for arm in item.arms.all()],
            }
            for item in trial.interventions.all()
        ],
        "outcomes": [
            {
                "kind": outcome.kind,
                "measure": outcome.measure,
                "measure_original": _or_none(outcome.measure_original),
                "time_frame": _or_none(outcome.time_frame),
                "description": _or_none(outcome.description),
            }
            for outcome in trial.outcomes.all()
        ],
        "eligibility": {
            "min_age_years": _years(trial.min_age_years),
            "max_age_years": _years(trial.max_age_years),
            "sex": _or_none(trial.sex),
            "healthy_volunteers": trial.healthy_volunteers,
            "inclusion": [c.text or c.text_original for c in criteria if c.kind == "inclusion"],
            "exclusion": [c.text or c.text_original for c in criteria if c.kind == "exclusion"],
            "inclusion_original": [c.text_original for c in criteria if c.kind == "inclusion" and c.text_original],
            "exclusion_original": [c.text_original for c in criteria if c.kind == "exclusion" and c.text_original],
        },
        "ethics": {
            "approved": trial.ethics_approved,
            "committee": _or_none(trial.ethics_committee or trial.ethics_committee_original),
            "committee_original": _or_none(trial.ethics_committee_original),
            "approval_number": _or_none(trial.ethics_approval_number),
            "approval_date": partial_date(trial, "ethics_approval_date"),
        },
        "dsmb": trial.has_dmc,
        "ipd_sharing": {
            "sharing": _or_none(trial.ipd_sharing),
            "description": _or_none(trial.ipd_sharing_description),
        },
        "funding": _or_none(trial.funding),
        "sponsors": [
            {"name": sponsor.name, "name_original": _or_none(sponsor.name_original), "role": _or_none(sponsor.role)}
            for sponsor in trial.sponsors.all()
        ],
        "responsible_party": _or_none(trial.responsible_party),
        "sites": [
            {
                "facility": _or_none(site.facility),
                "facility_original": _or_none(site.facility_original),
                "city": _or_none(site.city),
                "region": _or_none(site.region),
                "country": _or_none(site.country),
                "status": _or_none(site.status),
            }
            for site in trial.sites.all()
        ],
        "identifiers": [
            {"id": identifier.value, "type": _or_none(identifier.type), "issuer": _or_none(identifier.issuer)}
            for identifier in trial.identifiers.all()
        ],
        "biospecimens": [
            {"name": sample.name, "name_original": _or_none(sample.name_original), "fate": _or_none(sample.fate)}
            for sample in trial.biospecimens.all()
        ],
        "has_results": trial.has_results,
    }
