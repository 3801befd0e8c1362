from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = "客户"

    def ready(self) -> None:
        from . import hooks, tabs  # noqa: F401  (tabs: the 客户画像's own tabs)
