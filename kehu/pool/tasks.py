"""Background jobs of the pool (run by the django-q2 worker)."""

from kehu.customers.models import Customer

from . import rules, services


def run_pool_rules() -> dict:
    """Scheduled: return overdue customers to the pool (idempotent, logged per customer)."""
    return services.return_overdue_customers()


def refresh_all_countdowns(batch: int = 2000) -> int:
    ids = list(Customer.objects.filter(owner__isnull=False).values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        rules.refresh_return_due(ids[start : start + batch])
    return len(ids)
