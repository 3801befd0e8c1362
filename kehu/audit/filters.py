import django_filters

from kehu.core.filters import KehuFilterSet
from kehu.org.models import User

from .models import ChangeLog


class ChangeLogFilterSet(KehuFilterSet):
    object_type = django_filters.CharFilter(label="对象类型")
    object_id = django_filters.NumberFilter(label="对象ID")
    actor = django_filters.ModelChoiceFilter(label="操作人", queryset=User.objects.all())
    q = django_filters.CharFilter(label="对象", field_name="object_repr", lookup_expr="icontains")
    created_after = django_filters.DateFilter(
        label="开始日期", field_name="created_at", lookup_expr="date__gte"
    )
    created_before = django_filters.DateFilter(
        label="结束日期", field_name="created_at", lookup_expr="date__lte"
    )

    class Meta(KehuFilterSet.Meta):
        model = ChangeLog
        fields = [
            "action",
            "object_type",
            "object_id",
            "actor",
            "q",
            "created_after",
            "created_before",
        ]
