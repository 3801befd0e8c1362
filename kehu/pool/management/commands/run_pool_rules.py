from django.core.management.base import BaseCommand

from kehu.pool.tasks import refresh_all_countdowns, run_pool_rules


class Command(BaseCommand):
    help = "Return overdue private customers to the pool (also scheduled hourly in the worker)"

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh", action="store_true", help="recompute every countdown first"
        )

    def handle(self, *args, refresh=False, **options):
        if refresh:
            self.stdout.write(f"countdowns refreshed: {refresh_all_countdowns()}")
        result = run_pool_rules()
        self.stdout.write(
            f"returned to the pool: {result['returned']} (exempt: {result['exempt']})"
        )
