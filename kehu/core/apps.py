from django.apps import AppConfig, apps
from django.db.models.signals import m2m_changed, post_delete, post_save

# Models whose rows feed the per-request memo (kehu/core/memo.py): saving one clears it.
MEMO_SOURCES = (
    "org.Department",
    "org.User",
    "pool.Pool",
    "customers.CustomerShare",
    "documents.ApprovalStep",
)


class CoreConfig(AppConfig):
    name = "kehu.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import lookups, memo  # noqa: F401 - lookups registers field__anyof
        from .selectors import remember_list_columns

        # the user's 列 choices go into the session at login: list pages read them for free
        user_logged_in.connect(remember_list_columns, dispatch_uid="kehu-list-columns")

        for label in MEMO_SOURCES:
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            post_save.connect(memo.clear, sender=model, dispatch_uid=f"memo-save-{label}")
            post_delete.connect(memo.clear, sender=model, dispatch_uid=f"memo-delete-{label}")
            for field in model._meta.many_to_many:
                m2m_changed.connect(
                    memo.clear,
                    sender=field.remote_field.through,
                    dispatch_uid=f"memo-m2m-{label}-{field.name}",
                )
