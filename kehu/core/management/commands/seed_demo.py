"""Load the demo organisation and data (SPEC §11). ``--if-empty`` does nothing on a used database."""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Each module has ``seed(users)`` (org's returns the users); later apps append theirs here.
DEMO_MODULES = [
    "kehu.org.demo",
    "kehu.basics.demo",
    "kehu.customers.demo",
    "kehu.sales.demo",
    "kehu.aftersales.demo",
]


class Command(BaseCommand):
    help = "Create the demo organisation and data"

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="only when the database has no users"
        )

    def handle(self, *args, if_empty=False, **options):
        from kehu.org.models import User

        if if_empty and User.objects.exists():
            self.stdout.write("demo data: database not empty, nothing loaded")
            return
        with transaction.atomic():
            users = import_module(DEMO_MODULES[0]).seed()
            for module in DEMO_MODULES[1:]:
                import_module(module).seed(users)
        self.stdout.write(
            self.style.SUCCESS(f"demo data loaded: {len(users)} demo accounts, password demo1234")
        )
