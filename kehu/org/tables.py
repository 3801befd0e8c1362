from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from kehu.core.tables import ActionsColumn, KehuTable

from .models import ApiToken, Department, Role, User


class UserTable(KehuTable):
    id = tables.Column(verbose_name="ID")
    username = tables.Column(verbose_name="用户名")
    name = tables.Column(verbose_name="姓名")
    mobile = tables.Column(verbose_name="手机")
    department = tables.Column(verbose_name="部门", order_by="department__name")
    roles = tables.ManyToManyColumn(verbose_name="角色", orderable=False)
    is_active = tables.BooleanColumn(verbose_name="在职", yesno="是,否")
    actions = ActionsColumn(
        "user",
        delete=False,
        extra=[("离职交接", "handover", "text-orange"), ("撤销令牌", "revoke_tokens", "text-red")],
    )

    class Meta(KehuTable.Meta):
        model = User
        fields = ["id", "username", "name", "mobile", "department", "roles", "is_active"]


class DepartmentTable(KehuTable):
    id = tables.Column(verbose_name="ID")
    name = tables.Column(verbose_name="部门名称")
    parent = tables.Column(verbose_name="上级部门", order_by="parent__name")
    leader = tables.Column(verbose_name="部门负责人", order_by="leader__name")
    member_count = tables.Column(verbose_name="员工数")
    sort = tables.Column(verbose_name="排序")
    actions = ActionsColumn("department")

    class Meta(KehuTable.Meta):
        model = Department
        fields = ["id", "name", "parent", "leader", "member_count", "sort"]


class RoleTable(KehuTable):
    id = tables.Column(verbose_name="ID")
    name = tables.Column(verbose_name="角色名称")
    code = tables.Column(verbose_name="代码")
    data_scope = tables.Column(verbose_name="数据范围")
    is_admin = tables.BooleanColumn(verbose_name="全部权限", yesno="是,否")
    user_count = tables.Column(verbose_name="员工数")
    actions = ActionsColumn("role")

    class Meta(KehuTable.Meta):
        model = Role
        fields = ["id", "name", "code", "data_scope", "is_admin", "user_count"]


class ApiTokenTable(KehuTable):
    """我的令牌: never the token itself (only its hash is stored), only its first characters."""

    name = tables.Column(verbose_name="名称")
    prefix = tables.Column(verbose_name="令牌", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name="创建时间", format="Y-m-d H:i")
    last_used_at = tables.DateTimeColumn(
        verbose_name="最近使用", format="Y-m-d H:i", default="从未使用", empty_values=(None,)
    )
    expires_at = tables.DateTimeColumn(verbose_name="过期时间", format="Y-m-d H:i")
    status = tables.Column(verbose_name="状态", empty_values=(), orderable=False)
    actions = ActionsColumn(
        "token", edit=False, delete=False, extra=[("撤销", "revoke", "text-danger")]
    )

    class Meta(KehuTable.Meta):
        model = ApiToken
        fields = ["name", "prefix", "created_at", "last_used_at", "expires_at"]
        # What a phone shows first (the table scrolls sideways): which token, is it alive.
        sequence = [
            "name",
            "status",
            "expires_at",
            "last_used_at",
            "created_at",
            "prefix",
            "actions",
        ]
        empty_text = "暂无令牌"

    def render_prefix(self, value):
        return f"{value}…"

    def render_status(self, record):
        css, label = ("bg-secondary-lt", "已过期") if record.is_expired else ("bg-green-lt", "有效")
        return format_html('<span class="badge {}">{}</span>', css, label)
