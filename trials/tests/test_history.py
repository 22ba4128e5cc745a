"""What changed between versions: the field-level diff, and the History section of the trial page."""

import dataclasses
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import SEEDS
from ingest.detect import parse
from ingest.records import OutcomeRecord, SiteRecord
from ingest.snapshot import snapshot_of
from trials.history import SHORT, FieldChange, changes
from trials.models import SourceRecord, Trial
from trials.tests import trial_page_queries

HISTORY = re.compile(r'<section id="history">.*?</section>', re.DOTALL)
CHANGED_FIELD = re.compile(r'<tr><th scope="row">([^<]+)</th>')


def record(seed_bytes, registry_id):
    [parsed] = parse(seed_bytes(registry_id))
    return parsed


def test_only_the_fields_that_differ_are_listed_with_labels_and_display_values(seed_bytes):
    old = record(seed_bytes, "ChiCTR2600126638")
    new = dataclasses.replace(old, status="RECRUITING", status_text="正在进行 / Recruiting", enrollment_target=40)
    assert changes(snapshot_of(old), snapshot_of(new)) == [
        FieldChange("Status", "Not yet recruiting", "Recruiting"),
        FieldChange("Enrolment (target)", "36", "40"),
    ]
    assert changes(snapshot_of(old), snapshot_of(old)) == []


def test_the_registry_wording_or_original_text_alone_is_shown_under_its_field(seed_bytes):
    old = record(seed_bytes, "ChiCTR2600126638")
    new = dataclasses.replace(old, status_text="尚未开始", public_title_original="新标题", start_date=None)
    assert changes(snapshot_of(old), snapshot_of(new)) == [
        FieldChange("Public title", old.public_title_original, "新标题"),
        FieldChange("Status", "尚未开始 / Not yet recruiting", "尚未开始"),
        FieldChange("Start date", old.start_date.isoformat(), "Not stated"),
    ]


def test_lists_name_the_items_added_removed_and_changed(seed_bytes):
    old = record(seed_bytes, "ChiCTR2600126638")
    primary = [outcome for outcome in old.outcomes if outcome.kind == "primary"]
    edited = dataclasses.replace(primary[0], time_frame="12 months")
    added = OutcomeRecord(kind="primary", measure="Pain (VAS)")
    outcomes = (*(o for o in old.outcomes if o.kind != "primary"), edited, primary[1], added)
    exclusions = tuple(c for c in old.criteria if c.kind == "exclusion")
    new = dataclasses.replace(old, outcomes=outcomes, criteria=exclusions[1:])
    assert changes(snapshot_of(old), snapshot_of(new)) == [
        FieldChange(
            "Primary outcomes",
            "2 primary outcomes",
            "3 primary outcomes",
            added=("Pain (VAS)",),
            changed=(primary[0].measure,),
        ),
        FieldChange(
            "Exclusion criteria",
            "7 exclusion criteria",
            "6 exclusion criteria",
            removed=(exclusions[0].text[: SHORT - 1].rstrip() + "…",),
        ),
    ]


def test_sites_are_counted_and_named(seed_bytes):
    old = record(seed_bytes, "NCT06379243")
    more = (SiteRecord(facility="Hospital B", city="Guangzhou"), SiteRecord(city="Shenzhen", country="China"))
    new = dataclasses.replace(old, sites=more)
    assert changes(snapshot_of(old), snapshot_of(new)) == [
        FieldChange("Sites", "1 site", "2 sites", added=("Hospital B", "Shenzhen"), removed=(old.sites[0].facility,))
    ]


def test_a_reordered_list_and_unknown_fields_are_still_told(seed_bytes):
    old = snapshot_of(record(seed_bytes, "NCT07101562"))
    new = old | {"criteria": old["criteria"][::-1], "trial_colour": "blue"}
    assert changes(old, new) == [
        FieldChange("Trial colour", "Not stated", "blue"),
        FieldChange(
            "Inclusion criteria", "7 inclusion criteria", "7 inclusion criteria", note="same items in another order"
        ),
        FieldChange(
            "Exclusion criteria", "28 exclusion criteria", "28 exclusion criteria", note="same items in another order"
        ),
    ]


def changed_copy(tmp_path, registry_id, *replacements):
    text = (SEEDS / f"{registry_id}.txt").read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / f"{registry_id}-changed.txt"
    path.write_text(text)
    return path


def history_of(client, registry_id) -> str:
    html = client.get(reverse("trials:detail", args=[registry_id])).content.decode()
    return HISTORY.search(html).group()


@pytest.mark.django_db
def test_a_trial_loaded_twice_has_one_version_and_says_so(client):
    call_command("ingest", str(SEEDS), verbosity=0)
    call_command("ingest", str(SEEDS), verbosity=0)
    history = history_of(client, "NCT07101562")
    assert "One version, ingested" in history and "NCT07101562.txt" in history
    assert not CHANGED_FIELD.search(history)


@pytest.mark.django_db
def test_the_history_lists_exactly_the_fields_of_a_changed_copy(client, tmp_path):
    call_command("ingest", str(SEEDS / "NCT07101562.txt"), verbosity=0)
    changed = changed_copy(
        tmp_path, "NCT07101562", ("\nNOT_YET_RECRUITING\n", "\nRECRUITING\n"), ("30 participants", "45 participants")
    )
    call_command("ingest", str(changed), verbosity=0)
    assert SourceRecord.objects.count() == 2
    history = history_of(client, "NCT07101562")
    assert CHANGED_FIELD.findall(history) == ["Status", "Enrolment (target)"]
    assert "<td>Not yet recruiting</td><td>Recruiting" in history
    assert "<td>30</td><td>45" in history
    assert "2 versions, newest first" in history and "First version stored." in history
    newest, earlier = Trial.objects.get().sources.all()
    for version in (newest, earlier):
        assert reverse("trials:source", args=["NCT07101562", version.pk]) in history
    assert history.index("NCT07101562-changed.txt") < history.index("NCT07101562.txt")


@pytest.mark.django_db
def test_a_version_without_a_snapshot_is_listed_without_a_diff(client, tmp_path):
    call_command("ingest", str(SEEDS / "NCT07101562.txt"), verbosity=0)
    SourceRecord.objects.update(snapshot=b"", checksum="raw bytes")  # stored before snapshots were kept
    call_command("ingest", str(SEEDS / "NCT07101562.txt"), verbosity=0)
    history = history_of(client, "NCT07101562")
    assert "The version before it was stored without a snapshot: what changed is not known." in history
    assert "First version stored." in history
    assert not CHANGED_FIELD.search(history)
    SourceRecord.objects.update(snapshot=b"")
    assert "Stored before snapshots were kept" in history_of(client, "NCT07101562")


@pytest.mark.django_db
def test_registry_text_in_the_history_is_escaped(client, seed_bytes):
    from ingest.writer import write_trial

    old = record(seed_bytes, "NCT06731192")
    write_trial(old)
    write_trial(dataclasses.replace(old, public_title='<script>alert("x")</script>', sites=()))
    history = history_of(client, "NCT06731192")
    assert "<script>" not in history and "&lt;script&gt;" in history


@pytest.mark.django_db
def test_the_trial_page_runs_the_same_queries_with_one_version_or_several(
    client, seed_bytes, django_assert_num_queries
):
    from ingest.writer import write_trial

    old = record(seed_bytes, "NCT06731192")
    write_trial(old)
    url = reverse("trials:detail", args=["NCT06731192"])
    with django_assert_num_queries(trial_page_queries()):
        client.get(url)
    for enrolment in (10, 20, 30):
        write_trial(dataclasses.replace(old, enrollment_target=enrolment))
    with django_assert_num_queries(trial_page_queries()):
        assert "4 versions, newest first" in client.get(url).content.decode()
