from django import forms

from kehu.core.forms import KehuForm, KehuModelForm
from kehu.org.models import User

from .allocation import MODES
from .models import Pool


class ReleaseForm(KehuForm):
    reason = forms.CharField(
        label="原因（选填）",
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
    )


class TransferForm(KehuForm):
    """Targets: only users who can own customers, within the actor's scope (issue 14.4)."""

    def __init__(self, *args, **kwargs):
        from kehu.org.selectors import customer_owner_candidates

        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = customer_owner_candidates(actor=self.user)

    users = forms.ModelMultipleChoiceField(
        label="目标员工",
        queryset=User.objects.filter(is_active=True),
        widget=forms.SelectMultiple(attrs={"data-picker": "1", "col": "col-12"}),
        error_messages={
            "required": "请至少选择一名目标员工",
            "invalid_choice": "目标员工不能负责客户或不在您的管理范围内",
        },
    )
    allocation = forms.ChoiceField(
        label="分配方式",
        choices=list(MODES.items()),
        initial="even",
        widget=forms.RadioSelect(attrs={"col": "col-12"}),
    )


class PoolForm(KehuModelForm):
    class Meta:
        model = Pool
        fields = [
            "name",
            "departments",
            "no_followup_days",
            "not_won_days",
            "level_days",
            "exempt_won",
            "exempt_open_opportunity",
            "exempt_open_service_orders",
            "remind_days",
            "max_owned",
            "count_won_in_limit",
            "daily_claim_limit",
            "reclaim_cooldown_days",
            "lock_limit",
        ]
        widgets = {"departments": forms.SelectMultiple(attrs={"data-picker": "1", "col": "col-12"})}


class HandoverForm(KehuForm):
    successor = forms.ModelChoiceField(
        label="接手人",
        required=False,
        queryset=User.objects.filter(is_active=True),
        widget=forms.Select(attrs={"data-picker": "1", "col": "col-12"}),
    )
    customers_to_pool = forms.BooleanField(label="客户放入公海（不交给接手人）", required=False)


class MovePoolForm(KehuForm):
    pool = forms.ModelChoiceField(
        label="目标公海", queryset=Pool.objects.all(), error_messages={"required": "请选择目标公海"}
    )
