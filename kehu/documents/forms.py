"""The add/edit form every document type shares: its own fields plus, for types with line
items, a table of rows (产品 or 品名, 数量, 单价, 优惠金额). The service validates and computes."""

from __future__ import annotations

from django import forms

from kehu.core.forms import KehuModelForm, StyledFormMixin


class LineItemForm(StyledFormMixin, forms.Form):
    product = forms.ModelChoiceField(
        label="产品",
        queryset=None,
        required=False,
        empty_label="选择产品或填写品名",
        error_messages={"invalid_choice": "产品不存在或已停用"},
    )
    name = forms.CharField(label="品名", required=False, max_length=100)
    quantity = forms.CharField(label="数量", required=False, max_length=20)
    unit_price = forms.CharField(label="单价", required=False, max_length=20)
    discount = forms.CharField(label="优惠金额", required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.basics.models import Product

        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        self.fields["product"].widget.attrs["data-picker"] = "1"
        self._style_fields()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(k) for k in ("product", "name", "quantity", "unit_price"))


class DocumentForm(KehuModelForm):
    """A document's modal form; ``has_items`` adds the line-item rows (prefix ``items``)."""

    has_items = False
    blank_rows = 3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = None
        if self.has_items:
            initial = []
            if self.instance is not None and self.instance.pk:
                initial = [
                    {
                        "product": i.product_id,
                        "name": i.name,
                        "quantity": f"{i.quantity:g}"
                        if i.quantity == i.quantity.to_integral()
                        else str(i.quantity),
                        "unit_price": str(i.unit_price),
                        "discount": str(i.discount) if i.discount else "",
                    }
                    for i in self.instance.items.all()
                ]
            formset_class = forms.formset_factory(
                LineItemForm, extra=1 if initial else self.blank_rows, max_num=200, absolute_max=200
            )
            self.items = formset_class(
                data=self.data if self.is_bound else None, prefix="items", initial=initial
            )

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.items is None:
            return valid
        items_valid = self.items.is_valid()
        if valid and items_valid:
            self.cleaned_data["items"] = [
                {
                    "product": f.cleaned_data["product"].pk
                    if f.cleaned_data.get("product")
                    else None,
                    "name": f.cleaned_data.get("name", ""),
                    "quantity": f.cleaned_data.get("quantity", ""),
                    "unit_price": f.cleaned_data.get("unit_price", ""),
                    "discount": f.cleaned_data.get("discount", ""),
                }
                for f in self.items.forms
                if not f.is_blank()
            ]
        return valid and items_valid

    def _post_clean(self):
        pass  # the service validates (one set of rules for page and API)
