"""Ingest benchmark: N ClinicalTrials.gov API v2 studies as JSON Lines, loaded through the real command.

The file is made by varying the 320 real studies of bench/data/ctgov-studies.jsonl.gz: a fresh NCT id, and
shifted dates, status, enrolment and title words; the rest of each study (arms, outcomes, criteria, sites)
is the real one. It is written once to var/ and reused. The database is emptied (recreated) before each run,
then `manage.py ingest FILE` runs in its own process; the figures are its wall time and its peak resident
memory with its writer processes (the largest sum of their Pss, shared pages counted once, polled).

Every core is busy during a run, so its rate follows the CPU each trial costs and the speed of the machine at the
time, which on a shared virtual machine changes within the hour: the run's CPU per trial (the command with its
writers, and the PostgreSQL server when it runs here) and a reference loop timed before and after are printed too.

    make bench-ingest INGEST_N=100000   # PostgreSQL database trials_bench_ingest by default
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import time
import timeit
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "bench" / "data" / "ctgov-studies.jsonl.gz"
STATUSES = ["COMPLETED", "RECRUITING", "UNKNOWN", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "TERMINATED"]
WORDS = ["pilot", "extension", "multicentre", "long-term", "open-label", "adaptive", "pragmatic", "follow-up"]


def varied_studies(count: int) -> Iterator[bytes]:
    """`count` JSON lines, each a real study with a new id and varied dates, status, enrolment and title."""
    real = [json.loads(line) for line in gzip.decompress(SOURCE.read_bytes()).splitlines() if line.strip()]
    rng = random.Random(20261123)
    for number in range(count):
        study = json.loads(json.dumps(real[number % len(real)]))  # a deep copy
        protocol = study["protocolSection"]
        protocol["identificationModule"]["nctId"] = f"NCT9{number:07d}"
        title = protocol["identificationModule"].get("briefTitle", "")
        protocol["identificationModule"]["briefTitle"] = f"{title} ({rng.choice(WORDS)} {number})"
        status = protocol.setdefault("statusModule", {})
        status["overallStatus"] = rng.choice(STATUSES)
        start = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9000))
        status["startDateStruct"] = {"date": start.isoformat()}
        status["studyFirstSubmitDate"] = (start - datetime.timedelta(days=rng.randrange(-200, 200))).isoformat()
        design = protocol.setdefault("designModule", {})
        design["enrollmentInfo"] = {"count": rng.randrange(10, 5000), "type": rng.choice(["ACTUAL", "ESTIMATED"])}
        yield json.dumps(study, ensure_ascii=False).encode()


def studies_file(count: int) -> Path:
    path = ROOT / "var" / f"bench-ingest-{count}.jsonl.gz"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        started = time.monotonic()
        with gzip.open(path.with_suffix(".tmp"), "wb", compresslevel=3) as out:
            for line in varied_studies(count):
                out.write(line + b"\n")
        path.with_suffix(".tmp").rename(path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:,.0f} MB) in {time.monotonic() - started:,.0f} s")
    return path


def _resident_kb(pid: int) -> int:
    """The resident memory of a process and its children (the writer processes) now, shared pages counted once
    (Pss), 0 once it is gone."""
    total = 0
    for process in [pid, *_children(pid)]:
        try:
            rollup = Path(f"/proc/{process}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def reference_loop_ms() -> float:
    """The best of five runs of `python -m timeit -n 5 "sum(i*i for i in range(1000000))"` by this interpreter, in ms:
    how fast the machine is now. It depends on the interpreter's build too: on one machine in one hour, 27-30 ms
    with Debian's Python 3.11 (the Makefile's choice) and 39-41 ms with pyenv's."""
    return min(timeit.repeat("sum(i*i for i in range(1000000))", number=5, repeat=5)) / 5 * 1000


def _postgres_cpu_seconds() -> float | None:
    """CPU used so far by the local PostgreSQL server: every server process's own, and the postmaster's reaped
    children's (a connection's process ends with its connection); None when no server runs here."""
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            if text.partition("(")[2].rpartition(")")[0] != "postgres":
                continue
            fields = text.rpartition(")")[2].split()
            postmaster = fields[1] == "1"  # its parent is init
            total += sum(int(value) for value in fields[11 : 15 if postmaster else 13])
            found = found or postmaster
    return total / os.sysconf("SC_CLK_TCK") if found else None


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def recreate_database(url: str) -> None:
    if not url.startswith("postgres"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    name = url.rsplit("/", 1)[1]
    subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trials_bench_ingest")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1"}
    path = studies_file(args.trials)
    recreate_database(url)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    reference_before = reference_loop_ms()
    python_before, postgres_before = _children_cpu_seconds(), _postgres_cpu_seconds()
    started = time.monotonic()
    with subprocess.Popen(
        [*manage, "ingest", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as ingest:
        peak_kb = 0
        while ingest.poll() is None:
            peak_kb = max(peak_kb, _resident_kb(ingest.pid))
            time.sleep(0.2)
        out, err = ingest.communicate()
    seconds = time.monotonic() - started
    python_cpu, postgres_after = _children_cpu_seconds() - python_before, _postgres_cpu_seconds()
    peak_mb = peak_kb / 1024
    print(out.strip()[-500:])
    if ingest.returncode:
        print(err[-2000:], file=sys.stderr)
        sys.exit(ingest.returncode)
    database = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"ingest of {args.trials:,} ClinicalTrials.gov JSON Lines studies into {database}: {seconds:,.1f} s, "
        f"{args.trials / seconds:,.0f} trials/s, peak memory {peak_mb:,.0f} MB "
        f"(input {path.stat().st_size / 1e6:,.0f} MB gzip)"
    )
    cpu = f"CPU per trial: the command and its writers {python_cpu / args.trials * 1000:.2f} ms"
    if postgres_before is not None and postgres_after is not None and url.startswith("postgres"):
        cpu += f", PostgreSQL {(postgres_after - postgres_before) / args.trials * 1000:.2f} ms"
    print(f"{cpu}; reference loop {reference_before:.1f} ms before, {reference_loop_ms():.1f} ms after")


if __name__ == "__main__":
    main()
