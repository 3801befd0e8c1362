"""The pool's search panel: the customer filters minus the masked ones (SPEC §3: a raw phone
must not single out a pool customer) and minus the owner (there is none)."""

import django_filters

from kehu.customers.filters import CustomerFilterSet
from kehu.customers.search import keyword_q

from .models import Pool


class PoolCustomerFilterSet(CustomerFilterSet):
    phone = None
    owner = None
    pool = django_filters.ModelChoiceFilter(label="公海", queryset=Pool.objects.all())
    READ_CHOICES = (*CustomerFilterSet.READ_CHOICES, "pool")

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Name and contact name only: the masked phone must not single out a pool customer.
        return queryset.filter(keyword_q(value, fields=("name", "contact_name")))


class PoolFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="名称", field_name="name", lookup_expr="icontains")

    class Meta:
        from kehu.core.filters import StyledFilterForm

        model = Pool
        fields = ["q"]
        form = StyledFilterForm
