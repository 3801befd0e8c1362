"""Customers and their contacts (SPEC §2, §5.3)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.basics.models import DictEntry, DictKind, Region

ZERO = Decimal("0.00")


def money_field(label):
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=ZERO)


class CustomerStatus(models.TextChoices):
    WON = "won", _("已成交")
    OPEN = "open", _("未成交")


# The six receivable kinds of SPEC §6.3, in the list's column order.
RECEIVABLE_KINDS = {
    "vehicle": _("整车订单"),
    "parts": _("配件订单"),
    "used_vehicle": _("二手车订单"),
    "lease": _("租赁订单"),
    "repair": _("维修订单"),
    "maintenance": _("保养订单"),
}


# The columns only the receivables ledger (kehu.ledger) writes.
LEDGER_FIELDS = frozenset({"status", *(f"receivable_{k}" for k in RECEIVABLE_KINDS)})


class Customer(models.Model):
    name = models.CharField(_("客户名称"), max_length=100)
    name_normalized = models.CharField(max_length=100, db_index=True, editable=False)
    legal_person = models.CharField(_("法人/经营者"), max_length=50, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account = models.CharField(_("收款账号"), max_length=40, blank=True)
    industry = models.ForeignKey(
        DictEntry,
        verbose_name=_("行业类型"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.INDUSTRY},
    )
    products = models.CharField(_("生产产品"), max_length=500, blank=True)
    raw_materials = models.CharField(_("原材料类型"), max_length=500, blank=True)
    province = models.ForeignKey(
        Region,
        verbose_name=_("省"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    city = models.ForeignKey(
        Region,
        verbose_name=_("市"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        Region,
        verbose_name=_("区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=10, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("纬度"), max_digits=10, decimal_places=6, null=True, blank=True
    )
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=30, db_index=True)
    level = models.ForeignKey(
        DictEntry,
        verbose_name=_("客户等级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.LEVEL},
    )
    source = models.ForeignKey(
        DictEntry,
        verbose_name=_("客户来源"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": DictKind.SOURCE},
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("推荐人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = models.ManyToManyField(
        DictEntry,
        verbose_name=_("客户标签"),
        blank=True,
        related_name="tagged_customers",
        limit_choices_to={"kind": DictKind.TAG},
    )
    next_followup_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    last_followup_at = models.DateTimeField(_("最后跟进时间"), null=True, blank=True)
    remark = models.TextField(_("备注"), blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        db_index=False,  # the owner's indexes below start with it
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="created_customers",
    )
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("原负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pooled_at = models.DateTimeField(_("放入公海时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    pool = models.ForeignKey(
        "pool.Pool",
        verbose_name=_("所在公海"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        db_index=False,  # cust_pool_pooled_idx below starts with it
    )
    is_locked = models.BooleanField(_("锁定"), default=False)
    pool_return_at = models.DateTimeField(_("回收时间"), null=True, blank=True)
    pool_return_rule = models.CharField(_("回收规则"), max_length=30, blank=True)

    status = models.CharField(
        _("状态"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.OPEN
    )
    receivable_vehicle = money_field(_("整车订单"))
    receivable_parts = money_field(_("配件订单"))
    receivable_used_vehicle = money_field(_("二手车订单"))
    receivable_lease = money_field(_("租赁订单"))
    receivable_repair = money_field(_("维修订单"))
    receivable_maintenance = money_field(_("保养订单"))
    # 待收款金额 is tied to the six kinds by the database itself (SPEC §6.3).
    receivable_total = models.GeneratedField(
        expression=models.F("receivable_vehicle")
        + models.F("receivable_parts")
        + models.F("receivable_used_vehicle")
        + models.F("receivable_lease")
        + models.F("receivable_repair")
        + models.F("receivable_maintenance"),
        output_field=models.DecimalField(max_digits=15, decimal_places=2),
        db_persist=True,
        verbose_name=_("待收款金额"),
    )

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_pool", "查看客户公海"),
            ("claim_customer", "领取公海客户"),
            ("release_customer", "放入公海"),
            ("transfer_customer", "转移客户"),
            ("share_customer", "分享客户"),
            ("export_customer", "导出客户"),
            ("import_customer", "导入客户"),
            ("merge_customer", "合并客户"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="customers_unique_credit_code",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="cust_owner_created_idx"),
            models.Index(fields=["owner", "-receivable_total", "-id"], name="cust_owner_recv_idx"),
            models.Index(fields=["owner", "next_followup_at"], name="cust_owner_nextfu_idx"),
            models.Index(fields=["owner", "pool_return_at", "id"], name="cust_owner_return_idx"),
            models.Index(fields=["pool_return_at"], name="cust_return_idx"),
            models.Index(fields=["pool", "-pooled_at", "-id"], name="cust_pool_pooled_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """An existing customer's save never writes the ledger's columns (status and the
        receivables): only :mod:`kehu.ledger` changes them, with a row lock and in the
        document's transaction, so a form saved from a stale copy cannot undo an approval."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key
                and not getattr(f, "generated", False)
                and f.name not in LEDGER_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None

    @property
    def receivables(self) -> list[tuple[str, str, Decimal]]:
        return [
            (k, str(label), getattr(self, f"receivable_{k}"))
            for k, label in RECEIVABLE_KINDS.items()
        ]


class CustomerShare(models.Model):
    """Read access to a customer granted to a colleague (SPEC §1 sharing)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_shares"
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "user"], name="customers_share_unique"),
        ]
        indexes = [models.Index(fields=["user", "customer"], name="cust_share_user_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.user_id}"


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")
    UNKNOWN = "unknown", _("未知")


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=50)
    mobile = models.CharField(_("手机"), max_length=30, blank=True, db_index=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True, db_index=True)
    email = models.CharField(_("邮箱"), max_length=254, blank=True)
    position = models.CharField(_("职位"), max_length=50, blank=True)
    gender = models.CharField(
        _("性别"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    is_decision_maker = models.BooleanField(_("决策人"), default=False)
    birthday = models.DateField(_("生日"), null=True, blank=True)
    remark = models.CharField(_("备注"), max_length=500, blank=True)
    is_primary = models.BooleanField(_("主联系人"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="customers_one_primary_contact",
            ),
        ]
        # the 联系人列表's default order (newest first): its first page without a sort
        indexes = [models.Index(fields=["-created_at", "-id"], name="contact_created_idx")]

    def __str__(self) -> str:
        return self.name


class DuplicateCheckSource(models.TextChoices):
    API = "api", _("接口查重")
    PAGE = "page", _("查重对话框")
    FORM = "form", _("保存时查重")


class DuplicateCheckLog(models.Model):
    """One 查重 (duplicate check) by one user, allowed or refused (SPEC §13: rate-limited per
    user, logged, bursts reported). The per-user quota is counted from these rows
    (``kehu/customers/throttle.py``). Phones are stored masked, never raw."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the index below starts with user
    )
    # Set by the throttle from one clock reading (not auto_now_add): a row re-written after its
    # caller's rollback keeps its time.
    created_at = models.DateTimeField(_("时间"))
    source = models.CharField(_("来源"), max_length=10, choices=DuplicateCheckSource.choices)
    name_query = models.CharField(_("查询名称"), max_length=100, blank=True)
    phone_query = models.CharField(_("查询电话（已隐藏）"), max_length=30, blank=True)
    credit_code_query = models.CharField(_("查询信用代码"), max_length=18, blank=True)
    matches = models.PositiveIntegerField(_("匹配数"), default=0)
    refused = models.BooleanField(_("已拒绝"), default=False)
    # The window whose limit refused the check: "minute" or "day"; "" when allowed. The quota
    # filters on this column, not on ``refused``: SQLite cannot use an index for ``NOT refused``.
    refused_by = models.CharField(_("超出限制"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("查重记录")
        verbose_name_plural = _("查重记录")
        ordering = ["-id"]
        indexes = [
            # The quota counts one user's allowed rows (refused_by "") in a time window, and
            # looks for a refusal of a window: index range scans, however many refused rows a
            # burst left behind.
            models.Index(
                fields=["user", "refused_by", "created_at"], name="cust_dupcheck_user_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"查重 #{self.pk}"
