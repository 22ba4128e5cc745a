"""Make N realistic trials by varying real records, and load them through the real ingest writer.

Real records: the seeds and bench/data/ctgov-studies.jsonl.gz (320 ClinicalTrials.gov API v2 studies). Each
generated trial takes the body of one real record and the conditions, interventions, outcomes and sites of
others, a fresh id, and shifted dates, status and enrolment; about one in ten is bilingual (a ChiCTR seed's
Chinese text with English parts from other records). Generation is deterministic for given N and START
(bench/search.py splits the range between one process per core).

    python -m bench.generate 500000 [START]   # with DATABASE_URL pointing at the benchmark database
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import os
import random
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402

from ingest.detect import parse  # noqa: E402
from ingest.parsers import ctgov_json  # noqa: E402
from ingest.records import PartialDate, TrialRecord  # noqa: E402
from ingest.writer import write_trials  # noqa: E402
from trials.choices import Status  # noqa: E402

STATUSES = [
    (Status.COMPLETED, 40),
    (Status.RECRUITING, 15),
    (Status.UNKNOWN, 12),
    (Status.NOT_YET_RECRUITING, 6),
    (Status.ACTIVE_NOT_RECRUITING, 8),
    (Status.TERMINATED, 7),
    (Status.WITHDRAWN, 4),
    (Status.ENROLLING_BY_INVITATION, 2),
    (Status.SUSPENDED, 1),
]
BATCH = 250


def real_records() -> tuple[list[TrialRecord], list[TrialRecord]]:
    """(English records, bilingual records) read with the product's own parsers."""
    english, bilingual = [], []
    for path in sorted((ROOT / "samples" / "seeds").iterdir()):
        for record in parse(path.read_bytes()):
            (bilingual if record.public_title_original else english).append(record)
    payload = gzip.decompress((ROOT / "bench" / "data" / "ctgov-studies.jsonl.gz").read_bytes())
    english.extend(ctgov_json.parse(payload))
    return english, bilingual


def _shift(date: PartialDate | None, years: int) -> PartialDate | None:
    if date is None:
        return None
    try:
        return PartialDate(date.value.replace(year=date.value.year + years), date.precision)
    except ValueError:  # 29 February
        return PartialDate(date.value.replace(year=date.value.year + years, day=28), date.precision)


def variant(number: int, rng: random.Random, english: list[TrialRecord], bilingual: list[TrialRecord]) -> TrialRecord:
    is_bilingual = rng.random() < 0.1
    base = rng.choice(bilingual if is_bilingual else english)
    others = [rng.choice(english) for _ in range(3)]
    years = rng.randint(-12, 2)
    prefix = "ChiCTR" if is_bilingual else "NCT"
    registry_id = f"{prefix}9{number:08d}"
    target = base.enrollment_target or base.enrollment_actual or 60
    enrollment = max(1, int(target * rng.uniform(0.3, 3)))
    conditions = others[0].conditions if not is_bilingual or rng.random() < 0.5 else base.conditions
    return dataclasses.replace(
        base,
        registry_id=registry_id,
        source_url="",
        source=base.source + f"\n<!-- bench variant {number} -->".encode(),
        public_title=f"{base.public_title} ({others[0].public_title[:60]})"
        if rng.random() < 0.3
        else base.public_title,
        status=rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0],
        conditions=conditions,
        interventions=base.interventions if rng.random() < 0.6 else others[1].interventions,
        arms=base.arms if rng.random() < 0.6 else others[1].arms,
        outcomes=others[2].outcomes if rng.random() < 0.4 else base.outcomes,
        sites=base.sites if rng.random() < 0.7 else others[2].sites,
        enrollment_target=enrollment,
        enrollment_actual=None,
        min_age_years=base.min_age_years if rng.random() < 0.8 else rng.choice([None, 18.0, 6.0, 40.0, 65.0]),
        registration_date=_shift(base.registration_date, years),
        first_posted_date=_shift(base.first_posted_date, years),
        last_update_date=_shift(base.last_update_date, years) or PartialDate(datetime.date(2024, 1, 1)),
        start_date=_shift(base.start_date, years),
        primary_completion_date=_shift(base.primary_completion_date, years),
        completion_date=_shift(base.completion_date, years),
    )


def load(total: int, start_number: int = 0, *, seed: int = 20261123) -> None:
    """Write generated trials number start_number to total - 1 (ids already stored are rewritten, unchanged)."""
    english, bilingual = real_records()
    rng = random.Random(seed + start_number)
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off") if connection.vendor == "postgresql" else None
    began = time.monotonic()
    for batch_start in range(start_number, total, BATCH):
        batch = [
            variant(number, rng, english, bilingual) for number in range(batch_start, min(total, batch_start + BATCH))
        ]
        write_trials(batch, origins=["bench"] * len(batch))
        done = min(total, batch_start + BATCH) - start_number
        rate = done / (time.monotonic() - began)
        minutes_left = (total - start_number - done) / rate / 60
        print(f"{min(total, batch_start + BATCH):>9,} trials  {rate:,.0f}/s  eta {minutes_left:.0f} min", flush=True)


if __name__ == "__main__":
    load(*(int(arg) for arg in sys.argv[1:3]))
