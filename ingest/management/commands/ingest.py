import sys
from functools import partial

from django.core.management.base import BaseCommand, CommandError

from ingest import pipeline


class Command(BaseCommand):
    help = "Load registry files (any supported format, detected by content) into the trials database."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders; - reads standard input")

    def handle(self, *args, paths: list[str], verbosity: int, **options):
        sources = []
        for path in paths:
            if path == "-":
                sources.append(("<stdin>", sys.stdin.buffer.read))
            else:
                sources += [(str(file), partial(pipeline.read_file, file)) for file in pipeline.files_under([path])]
        run = pipeline.run(sources, description=paths, on_file=partial(self.report_file, verbosity=verbosity))
        self.stdout.write(
            f"{run.files} files: {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.failed} failed (ingest run {run.pk})"
        )
        if run.failed:
            raise CommandError(f"{run.failed} failures; see above or the admin's ingest run {run.pk}")

    def report_file(self, report: pipeline.FileReport, *, verbosity: int) -> None:
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.counts.items()))
        if report.ok:
            if verbosity >= 1:
                self.stdout.write(f"{report.name}: {counts}")
            return
        for position, reason in report.failures:
            where = f" [{position}]" if position else ""
            self.stderr.write(self.style.ERROR(f"{report.name}{where}: FAILED: {reason}"))
        if counts:
            self.stdout.write(f"{report.name}: {counts}")
