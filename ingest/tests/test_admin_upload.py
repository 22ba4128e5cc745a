import gzip
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import SEEDS
from ingest.models import IngestRun
from trials.models import Trial

pytestmark = pytest.mark.django_db
UPLOAD_URL = reverse("admin:ingest_ingestrun_add")


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_uploading_needs_a_staff_login(client):
    response = client.get(UPLOAD_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_upload_page_states_its_limits(admin_client):
    html = admin_client.get(UPLOAD_URL).content.decode()
    assert "at most 200 MB" in html
    assert "archive members" in html and "compression ratio" in html


def test_an_uploaded_archive_is_ingested_and_its_failures_are_shown(admin_client):
    members = {path.name: path.read_bytes() for path in sorted(SEEDS.iterdir())}
    members["broken.json"] = b'{"protocolSection": {'
    upload = SimpleUploadedFile("batch.zip", zip_of(members), content_type="application/zip")
    response = admin_client.post(UPLOAD_URL, {"file": upload}, follow=True)
    run = IngestRun.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:ingest_ingestrun_change", args=[run.pk])
    assert (run.created, run.failed) == (5, 1)
    assert Trial.objects.count() == 5
    html = response.content.decode()
    assert "Ingested batch.zip: 5 created, 0 updated, 0 unchanged, 1 failed" in html
    assert "broken.json" in html and "broken JSON" in html


def test_a_single_gzipped_file_uploads_too(admin_client):
    payload = gzip.compress((SEEDS / "NCT06379243.txt").read_bytes())
    admin_client.post(UPLOAD_URL, {"file": SimpleUploadedFile("NCT06379243.txt.gz", payload)})
    assert list(Trial.objects.values_list("registry_id", flat=True)) == ["NCT06379243"]


def test_a_file_over_the_limit_is_refused_with_a_reason(admin_client, monkeypatch):
    monkeypatch.setattr("ingest.admin.MAX_UPLOAD_BYTES", 100)
    response = admin_client.post(UPLOAD_URL, {"file": SimpleUploadedFile("big.json", b"{" * 200)})
    assert response.status_code == 200
    assert "uploads may be at most 100 bytes" in response.content.decode()
    assert not IngestRun.objects.exists()
