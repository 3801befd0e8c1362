from django import forms

from kehu.basics.models import DictEntry, DictKind
from kehu.core.forms import KehuForm, KehuModelForm
from kehu.customers.forms import customer_picker_field, fill_customer_picker
from kehu.org.models import User

from .models import Lead, Opportunity


class LeadForm(KehuModelForm):
    class Meta:
        model = Lead
        fields = ["name", "contact_name", "contact_phone", "source", "owner", "address", "remark"]
        widgets = {
            "remark": forms.Textarea(attrs={"col": "col-12", "rows": 2}),
            "address": forms.TextInput(attrs={"col": "col-12"}),
            "owner": forms.Select(attrs={"data-picker": "1"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_lead_%s")
        super().__init__(*args, **kwargs)
        for name in ("name", "contact_name", "contact_phone", "address", "remark"):
            self.fields[name].validators = []
        self.fields["source"].queryset = DictEntry.objects.filter(
            kind=DictKind.SOURCE, is_active=True
        )
        self.fields["owner"].queryset = User.objects.filter(is_active=True)
        self.fields["owner"].required = False
        if self.instance and self.instance.pk:
            del self.fields["owner"]

    def _post_clean(self):
        pass


class LeadConvertForm(KehuForm):
    credit_code = forms.CharField(label="统一社会信用代码", required=False)
    legal_person = forms.CharField(label="法人/经营者", required=False)
    confirm_duplicates = forms.BooleanField(label="发现相似客户时仍然转化", required=False)


class LeadInvalidForm(KehuForm):
    reason = forms.CharField(
        label="无效原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
        error_messages={"required": "请填写无效原因"},
    )


class LeadFollowUpForm(KehuForm):
    type = forms.ModelChoiceField(
        label="跟进类型", required=False, queryset=DictEntry.objects.none()
    )
    content = forms.CharField(
        label="跟进内容",
        widget=forms.Textarea(attrs={"rows": 3, "col": "col-12"}),
        error_messages={"required": "请填写跟进内容"},
    )
    next_followup_at = forms.DateTimeField(
        label="下次跟进时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_leadfu_%s")
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = DictEntry.objects.filter(
            kind=DictKind.FOLLOWUP_TYPE, is_active=True
        )


class OpportunityForm(KehuModelForm):
    """商机: the customer is picked with a search-as-you-type box over the visible customers."""

    customer = customer_picker_field()
    budget = forms.CharField(label="客户预算", required=False)
    product_price = forms.CharField(label="产品价格", required=False)

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "budget",
            "product_price",
            "expected_close_at",
            "next_followup_at",
            "status",
            "remark",
        ]
        widgets = {
            "expected_close_at": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "next_followup_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "remark": forms.TextInput(attrs={"col": "col-12"}),
        }

    field_order = ["customer", "name"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_opp_%s")
        super().__init__(*args, **kwargs)
        for name in ("name", "remark"):
            self.fields[name].validators = []
        self.fields["name"].required = True
        self.fields["name"].error_messages["required"] = "请填写商机名称"
        if self.instance and self.instance.pk:
            del self.fields["customer"]
            return
        self.fields["customer"].required = True
        self.fields["customer"].error_messages["required"] = "请选择客户"
        fill_customer_picker(self)

    def _post_clean(self):
        pass  # services.opportunity_save validates
