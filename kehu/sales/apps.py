from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = "销售"

    def ready(self) -> None:
        from . import hooks  # noqa: F401
