"""Dictionaries (字典) and the national division table (省市区)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DictKind(models.TextChoices):
    """Dictionary kinds; the value is also the API path segment of ``/api/v1/dicts/{kind}``."""

    LEVEL = "levels", _("客户等级")
    SOURCE = "sources", _("客户来源")
    INDUSTRY = "industries", _("行业类型")
    TAG = "tags", _("客户标签")
    FOLLOWUP_TYPE = "followup-types", _("跟进类型")
    PAYMENT_METHOD = "payment-methods", _("付款方式")
    STORE = "stores", _("门店")
    VEHICLE_BRAND = "vehicle-brands", _("车辆品牌")


class DictEntry(models.Model):
    kind = models.CharField(_("字典类型"), max_length=20, choices=DictKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=50)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    remark = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("字典项")
        verbose_name_plural = _("字典项")
        ordering = ["kind", "sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="basics_dict_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A division of GB/T 2260 (adcode) with its centroid, loaded from cpca's table."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省")
        CITY = 2, _("市")
        DISTRICT = 3, _("区县")

    adcode = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    longitude = models.DecimalField(
        _("经度"), max_digits=10, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("纬度"), max_digits=10, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["adcode"]

    def __str__(self) -> str:
        return self.name


class ProductCategory(models.TextChoices):
    VEHICLE = "vehicle", _("整车")
    PARTS = "parts", _("配件")
    USED_VEHICLE = "used_vehicle", _("二手车")
    LEASE = "lease", _("租赁")


class Product(models.Model):
    """产品 (SPEC §13): what quotes and contracts sell, picked on their line items."""

    name = models.CharField(_("产品名称"), max_length=100)
    category = models.CharField(
        _("产品类别"),
        max_length=20,
        choices=ProductCategory.choices,
        default=ProductCategory.VEHICLE,
    )
    brand = models.CharField(_("品牌"), max_length=50, blank=True)
    spec = models.CharField(_("型号规格"), max_length=100, blank=True)
    unit = models.CharField(_("单位"), max_length=10, default="台")
    list_price = models.DecimalField(_("标准价"), max_digits=14, decimal_places=2, default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    remark = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("产品")
        verbose_name_plural = _("产品")
        ordering = ["category", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "spec"], name="basics_product_unique_name_spec"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.spec}".strip()
