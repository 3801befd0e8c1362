from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "kehu.documents"
    label = "documents"
    verbose_name = "单据"
