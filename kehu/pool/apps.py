from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedule(sender, **kwargs):
    """The automatic return runs hourly in the background worker (django-q2 schedule)."""
    if sender.name != "kehu.pool":
        return
    from django_q.models import Schedule

    Schedule.objects.get_or_create(
        func="kehu.pool.tasks.run_pool_rules",
        defaults={"name": "公海自动回收", "schedule_type": Schedule.HOURLY, "repeats": -1},
    )


class PoolConfig(AppConfig):
    name = "kehu.pool"
    label = "pool"
    verbose_name = "客户公海"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedule, sender=self, dispatch_uid="kehu.pool.ensure_schedule")
