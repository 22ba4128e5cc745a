from django.core.management.base import BaseCommand

from trials.search.synonyms import add_mesh_synonyms


class Command(BaseCommand):
    help = "Add synonym groups pairing registry condition names with the MeSH terms their records carry."

    def handle(self, *args, **options):
        self.stdout.write(f"{add_mesh_synonyms()} synonym groups added from MeSH terms.")
