import sys
from functools import partial

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ingest import pipeline

LOG_EVERY = 10_000  # records between progress lines when the output is not a terminal


class Command(BaseCommand):
    help = (
        "Load registry files into the trials database: ClinicalTrials.gov JSON (study, array, page, JSON Lines) "
        "and XML, WHO ICTRP XML and CSV, ChiCTR XML, registry record pages; gzip, zip and tar archives of them. "
        "Formats are detected by content."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders; - reads standard input")
        parser.add_argument("--batch-size", type=int, default=pipeline.BATCH_SIZE, help="trials per transaction")

    def handle(self, *args, paths: list[str], batch_size: int, verbosity: int, **options):
        inputs = [pipeline.Input("<stdin>", lambda: sys.stdin.buffer)] if paths == ["-"] else []
        inputs += pipeline.path_inputs(path for path in paths if path != "-")
        progress = Progress(self.stderr, total=sum(item.size or 0 for item in inputs), quiet=verbosity == 0)
        with progress:
            run = pipeline.run(
                inputs,
                description=paths,
                batch_size=batch_size,
                writers=pipeline.WRITERS,
                on_file=partial(self.report_file, verbosity=verbosity, progress=progress),
                on_progress=progress.update,
            )
        self.stdout.write(
            f"{run.files} files: {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.failed} failed (ingest run {run.pk})"
        )
        if run.failed:
            raise CommandError(f"{run.failed} failures; see above or the admin's ingest run {run.pk}")

    def report_file(self, report: pipeline.FileReport, *, verbosity: int, progress: "Progress") -> None:
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.counts.items()))
        for position, reason in report.failures:
            where = f" [{position}]" if position else ""
            progress.write(self.stderr, self.style.ERROR(f"{report.name}{where}: FAILED: {reason}"))
        if counts and (verbosity >= 1 or not report.ok):
            progress.write(self.stdout, f"{report.name}: {counts}")


class Progress:
    """A bar with rate and ETA on a terminal; otherwise a plain line every LOG_EVERY records."""

    def __init__(self, stream, *, total: int, quiet: bool):
        self.stream, self.total, self.quiet = stream, total, quiet
        self.bar = None
        if not quiet and stream.isatty():
            self.bar = tqdm(total=total or None, unit="B", unit_scale=True, file=stream._out, dynamic_ncols=True)
        self.logged = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

    def update(self, progress: pipeline.Progress) -> None:
        if self.bar is not None:
            self.bar.update(progress.bytes_read - self.bar.n)
            self.bar.set_postfix_str(f"{progress.records:,} trials, {progress.rate:,.0f}/s", refresh=False)
        elif not self.quiet and progress.records - self.logged >= LOG_EVERY:
            self.logged = progress.records
            done = ""
            if self.total and progress.bytes_read:
                left = progress.seconds * (self.total - progress.bytes_read) / progress.bytes_read
                done = f", {progress.bytes_read / self.total:.0%} of input, about {left / 60:,.0f} min left"
            self.stream.write(f"{progress.records:,} trials, {progress.rate:,.0f}/s{done}")

    def write(self, stream, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=stream._out)
        else:
            stream.write(line)
