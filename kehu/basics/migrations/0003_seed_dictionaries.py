"""Seed the dictionaries of SPEC §1 with the values a forklift dealer starts with."""

from django.db import migrations

DEFAULTS = {
    "levels": ["A重点客户", "B普通客户", "C一般客户"],
    "sources": ["电话营销", "展会", "转介绍", "网络推广", "线索转化", "导入", "老客户", "其他"],
    "industries": [
        "制造业",
        "物流仓储",
        "食品饮料",
        "化工",
        "建材",
        "纺织服装",
        "电子电器",
        "港口码头",
        "零售批发",
        "其他",
    ],
    "tags": ["重点跟进", "价格敏感", "有租赁需求", "有维保需求", "老客户", "大客户"],
    "followup-types": ["电话", "微信", "上门拜访", "到店", "邮件", "其他"],
    "payment-methods": ["对公账户", "现金", "微信", "支付宝", "承兑汇票"],
    "stores": ["门店A", "门店B"],
    "vehicle-brands": ["杭州叉车 (HC)", "合力叉车", "林德", "丰田", "龙工", "柳工", "未知"],
}


def seed(apps, schema_editor):
    DictEntry = apps.get_model("basics", "DictEntry")
    for kind, names in DEFAULTS.items():
        for sort, name in enumerate(names, start=1):
            DictEntry.objects.get_or_create(kind=kind, name=name, defaults={"sort": sort})


class Migration(migrations.Migration):
    dependencies = [("basics", "0002_load_regions")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
