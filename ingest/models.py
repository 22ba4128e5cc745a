from django.db import models


class IngestRun(models.Model):
    """One call of the ingest command or one upload in the admin."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sources = models.TextField(help_text="Paths or uploaded file names given to this run")
    files = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Files or records that could not be ingested")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Ingest run {self.pk} of {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def succeeded(self) -> bool:
        return self.finished_at is not None and self.failed == 0


class IngestFailure(models.Model):
    run = models.ForeignKey(IngestRun, on_delete=models.CASCADE, related_name="failures")
    source = models.CharField(max_length=500, help_text="File (and archive member) that failed")
    position = models.CharField(max_length=200, blank=True, help_text="Record number, line or trial id")
    reason = models.TextField()

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        where = f" ({self.position})" if self.position else ""
        return f"{self.source}{where}: {self.reason}"[:200]
