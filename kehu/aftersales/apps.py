from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "kehu.aftersales"
    label = "aftersales"
    verbose_name = "售后"

    def ready(self) -> None:
        from . import hooks  # noqa: F401
