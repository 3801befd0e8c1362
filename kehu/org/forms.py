from __future__ import annotations

from django import forms
from django.contrib.auth.models import Permission

from kehu.core.forms import KehuModelForm

from .models import Department, Role, User


class UserForm(KehuModelForm):
    password = forms.CharField(
        label="密码",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="新员工必填；编辑时留空表示不修改",
    )

    class Meta:
        model = User
        fields = ["username", "name", "mobile", "email", "department", "roles", "is_active"]
        labels = {"username": "用户名", "email": "邮箱", "is_active": "在职（启用）"}
        widgets = {"roles": forms.SelectMultiple(attrs={"data-picker": "1"})}


class DepartmentForm(KehuModelForm):
    class Meta:
        model = Department
        fields = ["name", "parent", "leader", "sort"]
        widgets = {"leader": forms.Select(attrs={"data-picker": "1"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = User.objects.filter(is_active=True)


class RoleForm(KehuModelForm):
    class Meta:
        model = Role
        fields = ["name", "code", "data_scope", "is_admin", "permissions", "remark"]
        widgets = {"permissions": forms.SelectMultiple(attrs={"data-picker": "1", "col": "col-12"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = Permission.objects.filter(
            content_type__app_label__in=[
                "org",
                "basics",
                "audit",
                "customers",
                "followups",
                "sales",
                "aftersales",
            ]
        ).select_related("content_type")
