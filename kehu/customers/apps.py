from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = "客户"

    def ready(self) -> None:
        from . import hooks  # noqa: F401
