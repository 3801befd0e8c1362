from django.apps import AppConfig


class BasicsConfig(AppConfig):
    name = "kehu.basics"
    label = "basics"
    verbose_name = "基础数据"
