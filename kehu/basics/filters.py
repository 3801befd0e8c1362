import django_filters

from kehu.core.filters import KehuFilterSet

from .models import DictEntry


class DictEntryFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="名称", field_name="name", lookup_expr="icontains")
    is_active = django_filters.BooleanFilter(label="启用")

    class Meta(KehuFilterSet.Meta):
        model = DictEntry
        fields = ["kind", "q", "is_active"]
