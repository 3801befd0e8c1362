from django.apps import AppConfig


class PoolConfig(AppConfig):
    name = "kehu.pool"
    label = "pool"
    verbose_name = "客户公海"
