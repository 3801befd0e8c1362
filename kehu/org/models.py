"""Organisation: users, departments (a tree with leaders), roles with a data scope (SPEC §1)."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class DataScope(models.TextChoices):
    # Order matters: widest first (see Role.widest).
    ALL = "all", _("全部")
    DEPT_AND_BELOW = "dept_and_below", _("本部门及下属部门")
    DEPT = "dept", _("本部门")
    SELF = "self", _("仅本人")

    @classmethod
    def widest(cls, scopes) -> DataScope:
        order = [cls.ALL, cls.DEPT_AND_BELOW, cls.DEPT, cls.SELF]
        present = set(scopes)
        for scope in order:
            if scope in present:
                return scope
        return cls.SELF


class Department(models.Model):
    name = models.CharField(_("部门名称"), max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    leader = models.ForeignKey(
        "org.User",
        verbose_name=_("部门负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_departments",
    )
    sort = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="org_department_unique_name_in_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    name = models.CharField(_("角色名称"), max_length=50, unique=True)
    code = models.SlugField(_("角色代码"), max_length=50, unique=True)
    data_scope = models.CharField(
        _("数据范围"), max_length=20, choices=DataScope.choices, default=DataScope.SELF
    )
    is_admin = models.BooleanField(_("拥有全部权限"), default=False)
    permissions = models.ManyToManyField(Permission, verbose_name=_("权限"), blank=True)
    is_builtin = models.BooleanField(_("内置角色"), default=False, editable=False)
    remark = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = models.CharField(_("手机"), max_length=20, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def _roles_prefetched(self) -> bool:
        return "roles" in getattr(self, "_prefetched_objects_cache", {})

    @property
    def data_scope(self) -> str:
        """The widest scope among the user's roles (SPEC §1); superusers see everything."""
        if self.is_superuser:
            return DataScope.ALL
        cached = getattr(self, "_data_scope_cache", None)
        if cached is None:
            if self._roles_prefetched():
                cached = DataScope.widest(r.data_scope for r in self.roles.all())
            else:
                cached = DataScope.widest(self.roles.values_list("data_scope", flat=True))
            self._data_scope_cache = cached
        return cached

    @property
    def data_scope_label(self) -> str:
        return str(DataScope(self.data_scope).label)

    @property
    def is_admin(self) -> bool:
        if self.is_superuser:
            return True
        cached = getattr(self, "_is_admin_cache", None)
        if cached is None:
            if self._roles_prefetched():
                cached = any(r.is_admin for r in self.roles.all())
            else:
                cached = self.roles.filter(is_admin=True).exists()
            self._is_admin_cache = cached
        return cached


def token_expiry():
    """When a token issued now expires: ``KEHU_API_TOKEN_DAYS`` (default 30) days from now."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    return timezone.now() + timedelta(days=settings.KEHU_API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A per-user API token; only its SHA-256 is stored, the token itself is shown once.

    A token lives ``KEHU_API_TOKEN_DAYS`` days (``expires_at``), and is deleted (revoked) when
    its user revokes it (我的令牌, ``DELETE /api/v1/auth/tokens/{id}``, ``POST /api/v1/auth/
    logout``), signs out of the web UI, changes password or is deactivated, or when an
    administrator revokes the user's tokens (``kehu.org.services``, ``kehu.org.signals``)."""

    user = models.ForeignKey(
        User, verbose_name=_("员工"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=8)
    name = models.CharField(_("名称"), max_length=100, default="API")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), default=token_expiry, db_index=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def label(self) -> str:
        """How the change log names a token: never any part of the secret."""
        return f"API 令牌 #{self.pk}（{self.name}）"

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at <= timezone.now()

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
