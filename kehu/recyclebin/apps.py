from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_schedule(sender, **kwargs):
    """Expired recycle-bin entries are purged daily in the background worker (django-q2)."""
    if sender.name != "kehu.recyclebin":
        return
    from django_q.models import Schedule

    Schedule.objects.get_or_create(
        func="kehu.recyclebin.tasks.purge_recycle_bin",
        defaults={"name": "回收站到期清理", "schedule_type": Schedule.DAILY, "repeats": -1},
    )


class RecycleBinConfig(AppConfig):
    name = "kehu.recyclebin"
    label = "recyclebin"
    verbose_name = "回收站"

    def ready(self) -> None:
        from . import hooks  # noqa: F401

        post_migrate.connect(
            ensure_schedule, sender=self, dispatch_uid="kehu.recyclebin.ensure_schedule"
        )
