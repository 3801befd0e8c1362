from django import forms

from kehu.core.forms import KehuForm
from kehu.org.models import Department, User
from kehu.pool.allocation import MODES

from .models import ImportTarget

# Which pickers each 导入目标 shows (issue 14 point 12): the others are hidden, on the server
# for the first paint and by ``static/kehu/imports.js`` when the choice changes.
TARGET_FIELDS = {
    ImportTarget.POOL: set(),
    ImportTarget.USERS: {"users", "allocation"},
    ImportTarget.DEPARTMENT: {"department", "allocation"},
}


class ImportForm(KehuForm):
    file = forms.FileField(
        label="上传导入文件", help_text="支持 .xlsx、.xls、.csv（UTF-8 或 GBK），最多10万行、20MB"
    )
    target = forms.ChoiceField(
        label="导入目标",
        choices=ImportTarget.choices,
        initial=ImportTarget.USERS,
        widget=forms.RadioSelect(attrs={"col": "col-12"}),
    )
    users = forms.ModelMultipleChoiceField(
        label="归属员工（可多选）",
        required=False,
        queryset=User.objects.filter(is_active=True),
        widget=forms.SelectMultiple(attrs={"data-picker": "1"}),
    )
    department = forms.ModelChoiceField(
        label="部门", required=False, queryset=Department.objects.all()
    )
    allocation = forms.ChoiceField(
        label="分配方式",
        choices=list(MODES.items()),
        initial="even",
        required=False,
        widget=forms.RadioSelect,
    )
    on_duplicate = forms.ChoiceField(
        label="重复数据",
        choices=[("skip", "跳过重复（推荐）"), ("import", "仍然导入")],
        initial="skip",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if user is not None:
            # 归属员工: only users who can own customers, within the importer's scope (issue 14.4)
            from kehu.org.selectors import customer_owner_candidates

            self.fields["users"].queryset = customer_owner_candidates(actor=user)
        target = (self.data.get("target") if self.is_bound else None) or self.initial.get(
            "target", ImportTarget.USERS
        )
        shown = TARGET_FIELDS.get(target, TARGET_FIELDS[ImportTarget.USERS])
        for name in ("users", "department", "allocation"):
            targets = " ".join(
                f"import-for-{t}" for t, fields in TARGET_FIELDS.items() if name in fields
            )
            hidden = "" if name in shown else " d-none"
            self.fields[name].widget.attrs["col"] = (
                f"col-md-6 import-target-field {targets}{hidden}"
            )
