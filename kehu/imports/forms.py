from django import forms

from kehu.core.forms import KehuForm
from kehu.org.models import Department, User
from kehu.pool.allocation import MODES

from .models import ImportTarget


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
