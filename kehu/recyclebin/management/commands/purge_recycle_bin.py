from django.core.management.base import BaseCommand

from kehu.recyclebin.tasks import purge_recycle_bin


class Command(BaseCommand):
    help = "Purge expired recycle-bin entries and their files (also scheduled daily in the worker)"

    def handle(self, *args, **options):
        self.stdout.write(f"purged recycle-bin entries: {purge_recycle_bin()}")
