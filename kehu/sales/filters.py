import django_filters
from django.db.models import Q

from kehu.basics.models import DictEntry, DictKind
from kehu.core.filters import KehuFilterSet
from kehu.org.models import User

from .models import Lead, LeadStatus


class LeadFilterSet(KehuFilterSet):
    q = django_filters.CharFilter(label="名称/联系人/电话", method="search")
    status = django_filters.ChoiceFilter(label="状态", choices=LeadStatus.choices)
    source = django_filters.ModelChoiceFilter(
        label="来源", queryset=DictEntry.objects.filter(kind=DictKind.SOURCE)
    )
    owner = django_filters.ModelChoiceFilter(label="负责人", queryset=User.objects.all())

    class Meta(KehuFilterSet.Meta):
        model = Lead
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(contact_name__icontains=value)
            | Q(contact_phone__contains=value)
        )
