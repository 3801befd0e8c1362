from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "kehu.followups"
    label = "followups"
    verbose_name = "跟进与代办"

    def ready(self) -> None:
        from . import hooks  # noqa: F401
