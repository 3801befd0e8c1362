from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrgConfig(AppConfig):
    name = "kehu.org"
    label = "org"
    verbose_name = "组织"

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .roles import sync_builtin_roles

        post_migrate.connect(sync_builtin_roles, dispatch_uid="kehu.org.sync_builtin_roles")
