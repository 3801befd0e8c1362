from django import forms

from kehu.basics.models import DictEntry, DictKind
from kehu.core.forms import KehuForm
from kehu.customers.forms import MultipleFileField
from kehu.customers.models import Contact
from kehu.sales.models import Opportunity

DT = {"type": "datetime-local"}


class FollowUpForm(KehuForm):
    type = forms.ModelChoiceField(
        label="跟进类型", required=False, queryset=DictEntry.objects.none()
    )
    content = forms.CharField(
        label="跟进内容",
        widget=forms.Textarea(attrs={"col": "col-12", "rows": 4}),
        error_messages={"required": "请填写跟进内容"},
    )
    followed_at = forms.DateTimeField(
        label="本次跟进时间", required=False, widget=forms.DateTimeInput(attrs=DT)
    )
    next_followup_at = forms.DateTimeField(
        label="下次跟进时间", required=False, widget=forms.DateTimeInput(attrs=DT)
    )
    contact = forms.ModelChoiceField(
        label="联系人", required=False, queryset=Contact.objects.none()
    )
    opportunity = forms.ModelChoiceField(
        label="商机", required=False, queryset=Opportunity.objects.none()
    )
    attachments = MultipleFileField(label="附件", required=False)

    def __init__(self, *args, customer=None, **kwargs):
        kwargs.setdefault("auto_id", "id_followup_%s")
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["type"].queryset = DictEntry.objects.filter(
            kind=DictKind.FOLLOWUP_TYPE, is_active=True
        )
        if customer is not None:
            self.fields["contact"].queryset = Contact.objects.filter(customer=customer)
            self.fields["opportunity"].queryset = Opportunity.objects.filter(
                customer=customer
            ).order_by("status", "-updated_at")
        else:
            del self.fields["opportunity"]

    def clean(self):
        cleaned = super().clean()
        opportunity = cleaned.pop("opportunity", None)
        cleaned["opportunity_id"] = opportunity.pk if opportunity else None
        return cleaned
