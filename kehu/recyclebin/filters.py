import django_filters
from django.apps import apps
from django.db.models import Q

from kehu.core.filters import KehuFilterSet

from .models import RecycleEntry

# The kinds of records a delete sends to the bin (SPEC §13), for the 类型 filter; every
# registered document type (报价单, 合同, 回款, 回款计划, …) is added to these.
RECYCLED_TYPES = [
    "customers.customer",
    "customers.contact",
    "followups.followup",
    "sales.opportunity",
]


def type_choices() -> list[tuple[str, str]]:
    from kehu.documents.types import registry

    labels = RECYCLED_TYPES + [decl.model._meta.label_lower for decl in registry.values()]
    choices = []
    for label in dict.fromkeys(labels):
        try:
            choices.append((label, str(apps.get_model(label)._meta.verbose_name)))
        except LookupError:
            continue
    return choices


class RecycleEntryFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="名称/客户", method="search")
    object_type = django_filters.ChoiceFilter(label="类型", choices=type_choices)
    deleted_after = django_filters.DateFilter(
        label="删除开始日期", field_name="deleted_at", lookup_expr="date__gte"
    )
    deleted_before = django_filters.DateFilter(
        label="删除结束日期", field_name="deleted_at", lookup_expr="date__lte"
    )

    class Meta(KehuFilterSet.Meta):
        model = RecycleEntry
        fields = ["q", "object_type", "deleted_after", "deleted_before"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(display_name__icontains=value) | Q(customer_name__icontains=value))
