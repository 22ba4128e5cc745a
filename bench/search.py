"""Search page benchmark: a fixed mix of searches through the real view on a generated catalogue.

    make bench-search N=500000                                             # PostgreSQL (trials_bench)
    make bench-search N=20000 BENCH_DATABASE_URL=sqlite:///var/bench.sqlite3

Loads N generated trials first when the database holds fewer (bench/generate.py), then times whole pages
(search with facets, trial pages, compare pages of six trials) through Django's test client and prints
p50/p95/p99 per kind of query, the CPU time per page (p50; this process and the PostgreSQL server processes of
its connections: on a shared virtual machine, wall times of one mix vary by half from run to run, CPU times far
less) and the number of SQL queries per page, on every connection.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gzip
import itertools
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client  # noqa: E402

# Django set up as the production server sets it up (config/wsgi.py), garbage collector tuning included.
import config.wsgi  # noqa: E402, F401
from trials.models import Trial  # noqa: E402

BROAD = ["patients", "treatment", "study", "randomized", "disease", "clinical", "efficacy", "safety"]
CHINESE = ["股骨头", "肝衰竭", "干细胞", "骨髓", "坏死", "患者", "治疗", "慢加急性", "髋关节", "安全性", "疗效", "随机"]
FILTERS = [
    {"status": "RECRUITING"},
    {"status": "COMPLETED"},
    {"country": "China"},
    {"country": "United States"},
    {"phase": "PHASE2"},
    {"phase": "PHASE3"},
    {"registry": "chictr"},
    {"study_type": "OBSERVATIONAL"},
    {"age": "85"},
    {"age": "10"},
    {"intervention_type": "DRUG"},
    {"sex": "FEMALE"},
    {"dmc": "yes"},
    {"ipd_sharing": "NO"},
    {"enrollment_min": "100", "enrollment_max": "500"},
    {"start_date_after": "2015-01-01", "start_date_before": "2019-12-31"},
]
SORTS = ["relevance", "updated", "start"]


def specific_words(count: int, rng: random.Random) -> list[str]:
    """Title words found in no other real record at all: each matches well under 1% of generated trials."""
    lines = gzip.decompress((ROOT / "bench" / "data" / "ctgov-studies.jsonl.gz").read_bytes()).splitlines()
    documents = collections.Counter()
    titles = {}
    for line in lines:
        study = json.loads(line)
        documents.update(set(re.findall(r"[a-z]{7,}", json.dumps(study).lower())))
        title = study["protocolSection"]["identificationModule"].get("briefTitle", "")
        titles.update(dict.fromkeys(re.findall(r"[a-z]{7,}", title.lower())))
    words = sorted(word for word in titles if documents[word] == 1)
    return rng.sample(words, count)


def search_mix(rng: random.Random, ids: list[str]) -> list[tuple[str, dict]]:
    kinds = {
        "specific word": [{"q": word} for word in specific_words(60, rng)],
        "broad word": [{"q": rng.choice(BROAD)} for _ in range(50)],
        "chinese": [{"q": rng.choice(CHINESE)} for _ in range(40)],
        "registry id": [{"q": rng.choice(ids).lower() if rng.random() < 0.3 else rng.choice(ids)} for _ in range(20)],
        "filters only": [{} for _ in range(40)],
    }
    mix = []
    for kind, requests in kinds.items():
        for number, params in enumerate(requests):
            if kind == "filters only" or number % 2:  # half of the searches with words carry 1-3 filters
                for extra in rng.sample(FILTERS, rng.randint(1, 3)):
                    params.update(extra)
            params["sort"] = rng.choice(SORTS)
            mix.append((kind, params))
    return mix


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def cpu_ms(pids: list[int]) -> float:
    """Time these processes have spent on a CPU so far (Linux schedstat), in ms: unlike wall time, it does not
    grow when other processes, or the virtual machine's host, take the CPU away."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):  # not Linux, or a server on another host
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total / 1e6


# Every statement of every connection of this process, those of the trials/alongside.py threads included, and the
# PostgreSQL server processes serving them.
statements = 0
server_processes: set[int] = set()


def _count(execute, sql, params, many, context):
    global statements
    statements += 1
    return execute(sql, params, many, context)


def _watch(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server_processes.add(cursor.fetchone()[0])
    connection.execute_wrappers.append(_count)


connection_created.connect(_watch)


def timed(client: Client, path: str, params: dict | None = None) -> tuple[float, int, str, float]:
    pids = [os.getpid(), *server_processes]
    began, began_cpu, began_statements = time.perf_counter(), cpu_ms(pids), statements
    response = client.get(path, params or {}, secure=True)
    elapsed, cpu = (time.perf_counter() - began) * 1000, cpu_ms(pids) - began_cpu
    assert response.status_code == 200, (path, params, response.status_code)
    found = re.search(rb'<p class="count"[^>]*><strong>([^<]+)</strong>', response.content)
    return elapsed, statements - began_statements, found.group(1).decode() if found else "", cpu


def report(title: str, rows: dict[str, list[tuple[float, int, str, float]]]) -> None:
    print(f"\n{title}")
    print(
        f"{'kind':<16}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'cpu p50':>9}"
        "  queries/page  totals seen"
    )
    everything = []
    for kind, samples in rows.items():
        times = [t for t, _, _, _ in samples]
        everything += samples
        queries = sorted({q for _, q, _, _ in samples})
        totals = sorted({s for _, _, s, _ in samples}, key=lambda s: (len(s), s))
        shown = ", ".join(totals[:2] + (["...", totals[-1]] if len(totals) > 3 else totals[2:3]))
        print(
            f"{kind:<16}{len(times):>5}{percentile(times, 0.5):>9.1f}{percentile(times, 0.95):>9.1f}"
            f"{percentile(times, 0.99):>9.1f}{max(times):>9.1f}{percentile([c for *_, c in samples], 0.5):>9.1f}"
            f"  {queries[0]:>5}-{queries[-1]:<6}  {shown}"
        )
    times = [t for t, _, _, _ in everything]
    print(
        f"{'all':<16}{len(times):>5}{percentile(times, 0.5):>9.1f}{percentile(times, 0.95):>9.1f}"
        f"{percentile(times, 0.99):>9.1f}{max(times):>9.1f}{percentile([c for *_, c in everything], 0.5):>9.1f}"
    )
    print("(cpu: milliseconds on a CPU of this process and its PostgreSQL server processes, whatever else runs)")


def huge_pages() -> str:
    """How many of this machine's huge pages are mapped (PostgreSQL's shared buffers, when it runs here and may use
    them): random reads of buffers cost far fewer TLB misses in 2 MB pages than in 4 kB ones."""
    with contextlib.suppress(OSError):
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        total, free, reserved = (int(info[f"HugePages_{name}"]) for name in ("Total", "Free", "Rsvd"))
        return f", huge pages {total - free + reserved:,} of {total:,} mapped"
    return ""


def load_in_parallel(start: int, total: int) -> None:
    """Generate trials start to total - 1 in one process per core (the writer is CPU-bound, PostgreSQL too)."""
    workers = 1 if connection.vendor == "sqlite" else max(1, min(os.cpu_count() or 1, 4))
    bounds = [start + (total - start) * part // workers for part in range(workers + 1)]
    connection.close()  # the children open their own
    processes = [
        subprocess.Popen([sys.executable, "-m", "bench.generate", str(end), str(begin)], cwd=ROOT)
        for begin, end in itertools.pairwise(bounds)
    ]
    if any(process.wait() for process in processes):
        sys.exit("generating the catalogue failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20000, help="trials the catalogue should hold")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production settings serve hashed names
    if not Trial.objects.filter(registry_id__in=["NCT06731192"]).exists():
        call_command("ingest", str(ROOT / "samples" / "seeds"), verbosity=0)
    generated = Trial.objects.filter(source_url="").count()
    if generated < args.trials:
        load_in_parallel(generated, args.trials)
        if connection.vendor == "postgresql":
            # After a bulk load: planner statistics (and the extended ones), the visibility map for
            # index-only scans, and the GIN indexes' pending lists merged, as a maintained database has them.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
    total = Trial.objects.count()
    setting = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW shared_buffers")
            setting = f", shared_buffers {cursor.fetchone()[0]}{huge_pages()}"
    print(f"{connection.vendor}: {total:,} trials{setting}")

    rng = random.Random(args.seed)
    ids = list(Trial.objects.filter(sample=0).values_list("registry_id", flat=True)[:2000])
    client = Client()
    for _kind, params in search_mix(random.Random(args.seed + 1), ids)[:20]:  # warm the caches a little
        timed(client, "/", params)

    rows: dict[str, list] = collections.defaultdict(list)
    slowest = []
    for kind, params in search_mix(rng, ids):
        rows[kind].append(timed(client, "/", params))
        slowest.append((rows[kind][-1][0], kind, params))
    report("search page (whole page with facets)", rows)
    print("\nslowest searches:")
    for elapsed, kind, params in sorted(slowest, key=lambda item: item[0], reverse=True)[:8]:
        print(f"  {elapsed:8.1f} ms  {kind:<14} {params}")

    trial_rows = {"trial page": [timed(client, f"/trials/{rng.choice(ids)}/") for _ in range(100)]}
    report("trial page", trial_rows)

    # Sample 0 is about 1/256 of the catalogue: a small one has too few of its ids to compare six.
    pool = ids if len(ids) >= 6 else list(Trial.objects.values_list("registry_id", flat=True)[:2000])
    compare_rows = {
        "compare page": [timed(client, "/compare/", {"ids": ",".join(rng.sample(pool, 6))}) for _ in range(50)]
    }
    report("compare page (six trials side by side)", compare_rows)


if __name__ == "__main__":
    main()
