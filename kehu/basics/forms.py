from django import forms
from django.urls import reverse_lazy

from kehu.core.forms import KehuModelForm, RemoteSelect

from .models import DictEntry, Product


class DictEntryForm(KehuModelForm):
    class Meta:
        model = DictEntry
        fields = ["kind", "name", "sort", "is_active", "remark"]


class ProductForm(KehuModelForm):
    """产品: the form gives the shape; ``services.product_save`` validates every field."""

    list_price = forms.CharField(
        label="标准价（元）",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
    )

    class Meta:
        model = Product
        fields = ["name", "category", "brand", "spec", "unit", "list_price", "is_active", "remark"]
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "如：3吨柴油叉车"}),
            "spec": forms.TextInput(attrs={"placeholder": "如：CPCD30"}),
            "remark": forms.TextInput(attrs={"col": "col-12"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_product_%s")
        super().__init__(*args, **kwargs)
        for name in ("name", "brand", "spec", "unit", "remark"):
            self.fields[name].validators = []  # the service's Chinese messages, once
        self.fields["name"].required = True
        self.fields["name"].error_messages["required"] = "请填写产品名称"
        self.fields["unit"].error_messages["required"] = "请填写单位"
        self.fields["category"].error_messages["invalid_choice"] = "产品类别无效"

    def _post_clean(self):
        pass  # services.product_save validates


def product_picker_field(**kwargs) -> forms.ModelChoiceField:
    """产品 picker of a line item: search-as-you-type over the enabled products
    (``product_picker``); only the chosen product is rendered as an option."""
    kwargs.setdefault("label", "产品")
    kwargs.setdefault(
        "error_messages", {"required": "请选择产品", "invalid_choice": "产品不存在或已停用"}
    )
    return forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True),
        widget=RemoteSelect(reverse_lazy("product_picker"), attrs={"data-label-field": "text"}),
        **kwargs,
    )
