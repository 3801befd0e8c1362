"""``manage.py load_regions``: (re)load the 省/市/区县 table from cpca; safe to run repeatedly."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db.models import Count

from kehu.basics.models import Region
from kehu.basics.regions import load_regions


class Command(BaseCommand):
    help = "从 cpca 加载全国行政区划（省/市/区县及中心点坐标），可重复执行"

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="目标数据库别名")

    def handle(self, *args, **options):
        using = options["database"]
        count = load_regions(using=using)
        by_level = dict(
            Region.objects.using(using).order_by().values_list("level").annotate(n=Count("adcode"))
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"已加载 {count} 个行政区划（省 {by_level.get(Region.Level.PROVINCE, 0)}，"
                f"市 {by_level.get(Region.Level.CITY, 0)}，"
                f"区县 {by_level.get(Region.Level.DISTRICT, 0)}）"
            )
        )
