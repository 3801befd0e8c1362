import django_filters
from django import forms

from kehu.core.filters import KehuFilterSet

from .models import DictEntry, Product, ProductCategory
from .selectors import product_search


class DictEntryFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="名称", field_name="name", lookup_expr="icontains")
    is_active = django_filters.BooleanFilter(label="启用")

    class Meta(KehuFilterSet.Meta):
        model = DictEntry
        fields = ["kind", "q", "is_active"]


ACTIVE_CHOICES = [("", "全部"), ("true", "启用"), ("false", "停用")]


class ProductFilterSet(KehuFilterSet):
    """产品: one FilterSet for the list page and ``GET /api/v1/products``."""

    q = django_filters.CharFilter(label="名称/品牌/型号", method="search")
    category = django_filters.ChoiceFilter(
        label="产品类别", choices=ProductCategory.choices, empty_label="全部"
    )
    is_active = django_filters.BooleanFilter(
        label="启用", widget=forms.Select(choices=ACTIVE_CHOICES)
    )

    class Meta(KehuFilterSet.Meta):
        model = Product
        fields: list[str] = []

    def search(self, queryset, name, value):
        return product_search(queryset, value)
