from __future__ import annotations

import django_tables2 as tables

from kehu.core.tables import ActionsColumn, KehuTable

from .models import Department, Role, User


class UserTable(KehuTable):
    id = tables.Column(verbose_name="ID")
    username = tables.Column(verbose_name="用户名")
    name = tables.Column(verbose_name="姓名")
    mobile = tables.Column(verbose_name="手机")
    department = tables.Column(verbose_name="部门", order_by="department__name")
    roles = tables.ManyToManyColumn(verbose_name="角色", orderable=False)
    is_active = tables.BooleanColumn(verbose_name="在职", yesno="是,否")
    actions = ActionsColumn("user", delete=False, extra=[("离职交接", "handover", "text-orange")])

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
