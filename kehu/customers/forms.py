"""Customer forms: input shape only — the rules live in ``validation`` and ``services``."""

from __future__ import annotations

from django import forms

from kehu.basics.models import DictEntry, DictKind, Region
from kehu.core.forms import KehuForm, KehuModelForm
from kehu.org.models import User

from .models import Customer
from .services import CONTACT_FIELDS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


def dict_choices(kind):
    return DictEntry.objects.filter(kind=kind, is_active=True).order_by("sort", "id")


class CustomerForm(KehuModelForm):
    province = forms.ModelChoiceField(
        label="省",
        required=False,
        queryset=Region.objects.filter(level=Region.Level.PROVINCE),
        widget=forms.Select(attrs={"data-region": "province", "col": "col-md-4"}),
    )
    city = forms.ModelChoiceField(
        label="市",
        required=False,
        queryset=Region.objects.filter(level=Region.Level.CITY),
        widget=forms.Select(attrs={"data-region": "city", "col": "col-md-4"}),
    )
    district = forms.ModelChoiceField(
        label="区/县",
        required=False,
        queryset=Region.objects.filter(level=Region.Level.DISTRICT),
        widget=forms.Select(attrs={"data-region": "district", "col": "col-md-4"}),
    )
    tags = forms.ModelMultipleChoiceField(
        label="客户标签",
        required=False,
        queryset=DictEntry.objects.none(),
        widget=forms.SelectMultiple(attrs={"data-picker": "1"}),
    )
    attachments = MultipleFileField(
        label="上传附件",
        required=False,
        help_text="单个文件不超过20MB；支持 PDF、图片、Office 文档、压缩包",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_duplicates = forms.BooleanField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = [
            "name",
            "legal_person",
            "credit_code",
            "bank_name",
            "bank_account",
            "industry",
            "products",
            "raw_materials",
            "province",
            "city",
            "district",
            "address",
            "longitude",
            "latitude",
            "contact_name",
            "contact_phone",
            "level",
            "source",
            "referrer",
            "tags",
            "next_followup_at",
            "remark",
        ]
        widgets = {
            "next_followup_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "remark": forms.Textarea(attrs={"col": "col-12"}),
            "referrer": forms.Select(attrs={"data-picker": "1"}),
            "address": forms.TextInput(attrs={"col": "col-md-12", "data-region": "address"}),
            "longitude": forms.TextInput(attrs={"data-region": "longitude"}),
            "latitude": forms.TextInput(attrs={"data-region": "latitude"}),
        }

    def __init__(self, *args, **kwargs):
        # The modal opens over the list page, whose search panel already has id_name, id_city...
        # Own ids keep each <label for> pointing at this form's field, not the search panel's.
        kwargs.setdefault("auto_id", "id_customer_%s")
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["contact_name"].required = True
        self.fields["contact_phone"].required = True
        # Field validation is the service's (one place); the form only parses the shape.
        for name in (
            "credit_code",
            "bank_account",
            "contact_phone",
            "name",
            "legal_person",
            "bank_name",
            "products",
            "raw_materials",
            "address",
            "contact_name",
            "remark",
        ):
            self.fields[name].validators = []
            if hasattr(self.fields[name], "max_length"):
                self.fields[name].max_length = None
                self.fields[name].widget.attrs.pop("maxlength", None)
        self.fields["industry"].queryset = dict_choices(DictKind.INDUSTRY)
        self.fields["level"].queryset = dict_choices(DictKind.LEVEL)
        self.fields["source"].queryset = dict_choices(DictKind.SOURCE)
        self.fields["tags"].queryset = dict_choices(DictKind.TAG)
        self.fields["referrer"].queryset = User.objects.filter(is_active=True)
        if self.instance and self.instance.pk:
            self.initial["version"] = self.instance.version
            self.initial["tags"] = list(self.instance.tags.all())
        # Narrow the cascading pickers to the chosen parents (the page's script refills them).
        data = self.data if self.is_bound else {}
        province = data.get("province") or (self.instance.province_id if self.instance else None)
        city = data.get("city") or (self.instance.city_id if self.instance else None)
        self.fields["city"].queryset = Region.objects.filter(
            level=Region.Level.CITY, parent_id=province or ""
        )
        self.fields["district"].queryset = Region.objects.filter(
            level=Region.Level.DISTRICT, parent_id__in=[x for x in (city, province) if x]
        )

    def _post_clean(self):
        # Model validation is skipped on purpose: services.customer_create/update validate.
        pass

    def service_data(self) -> dict:
        data = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in {"attachments", "version", "confirm_duplicates"}
        }
        return data


class DuplicateCheckForm(KehuForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_dedupe_%s")  # not the list's search panel ids
        super().__init__(*args, **kwargs)

    name = forms.CharField(label="客户名称", required=False, max_length=100)
    phone = forms.CharField(label="联系电话", required=False, max_length=30)

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("name") or "").strip() and not (cleaned.get("phone") or "").strip():
            raise forms.ValidationError("请输入客户名称或联系电话")
        return cleaned


class ShareForm(KehuForm):
    users = forms.ModelMultipleChoiceField(
        label="分享给",
        required=False,
        queryset=User.objects.none(),
        widget=forms.SelectMultiple(attrs={"data-picker": "1", "col": "col-12"}),
    )

    def __init__(self, *args, customer=None, **kwargs):
        from kehu.org.selectors import customer_share_candidates

        super().__init__(*args, **kwargs)
        users = customer_share_candidates()
        if customer is not None and customer.owner_id:
            users = users.exclude(pk=customer.owner_id)
        self.fields["users"].queryset = users


MAX_ID = 2**63 - 1


def customer_picker_field() -> forms.IntegerField:
    """客户 picker of a document form: search-as-you-type over the visible customers."""
    return forms.IntegerField(
        label="客户",
        required=False,
        min_value=1,
        max_value=MAX_ID,
        error_messages={
            "invalid": "请选择客户",
            "min_value": "客户不存在或无权查看",
            "max_value": "客户不存在或无权查看",
        },
        widget=forms.Select(attrs={"data-remote": "/api/v1/customers", "col": "col-12"}),
    )


def customer_picker_choices(user, value) -> list[tuple]:
    """The picker's options: the preselected customer (``?customer=5`` or the posted value) only
    when ``user`` may see it (SPEC §1) — a hidden, missing or malformed id preselects nothing
    and so reveals nothing."""
    from .selectors import visible_customers

    choices: list[tuple] = [("", "输入客户名称搜索")]
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return choices
    if not 0 < pk <= MAX_ID or user is None:
        return choices
    found = visible_customers(user).filter(pk=pk).values_list("pk", "name").first()
    if found:
        choices.append(found)
    return choices


def fill_customer_picker(form) -> None:
    """The ``customer`` picker of a document's add form, preselected from ``?customer=`` (or the
    posted value) when the user may see that customer. A preselect that names a hidden, missing
    or malformed customer sets ``form.preselect_error``: the add view answers 404 with it, the
    same for all three, so the link reveals nothing."""
    chosen = form.initial.get("customer") or (form.data.get("customer") if form.is_bound else None)
    choices = customer_picker_choices(form.user, chosen)
    form.fields["customer"].widget.choices = choices
    if chosen not in (None, "") and not form.is_bound and len(choices) == 1:
        form.preselect_error = "客户不存在或无权查看"


class ContactForm(KehuModelForm):
    """联系人: the customer is picked with a search-as-you-type box over the visible customers."""

    customer = customer_picker_field()

    class Meta:
        from .models import Contact

        model = Contact
        fields = list(CONTACT_FIELDS)  # the fields contact_save accepts
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "remark": forms.TextInput(attrs={"col": "col-12"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_contact_%s")
        super().__init__(*args, **kwargs)
        for name in ("name", "mobile", "phone", "email", "position", "remark"):
            self.fields[name].validators = []
        self.fields["name"].required = True
        if self.instance and self.instance.pk:
            del self.fields["customer"]
        else:
            fill_customer_picker(self)

    def _post_clean(self):
        pass  # services.contact_save validates
