import django_filters

from kehu.core.filters import KehuFilterSet
from kehu.org.models import User

from .models import ChangeLog


def object_type_choices() -> list[tuple[str, str]]:
    """The logged object types by name (客户, 合同, …) — the project's own models."""
    from django.apps import apps

    return sorted(
        (
            (model._meta.label_lower, str(model._meta.verbose_name))
            for model in apps.get_models()
            if model.__module__.startswith("kehu.")
        ),
        key=lambda choice: choice[1],
    )


class ChangeLogFilterSet(KehuFilterSet):
    object_type = django_filters.ChoiceFilter(label="对象类型", choices=object_type_choices)
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
