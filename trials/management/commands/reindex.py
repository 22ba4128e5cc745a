from django.core.management.base import BaseCommand

from trials.search.indexing import reindex


class Command(BaseCommand):
    help = "Rebuild every trial's search index and facet rows from what is stored (after indexing changes)."

    def handle(self, *args, **options):
        self.stdout.write(f"{reindex():,} trials reindexed.")
