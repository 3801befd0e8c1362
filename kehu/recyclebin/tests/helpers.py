"""What the recycle-bin tests compare: every row of a customer, as Django serialises it."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.storage import default_storage

from kehu.core.models import Attachment
from kehu.customers.models import Contact, Customer, CustomerShare
from kehu.followups.models import FollowUp
from kehu.pool.models import CustomerClaim


def attachments_for(model, ids):
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=list(ids)
    )


def customer_rows(customer_id: int) -> list[dict]:
    """Every row that belongs to the customer (python serializer: microseconds kept)."""
    followups = FollowUp.objects.filter(customer_id=customer_id)
    querysets = [
        Customer.objects.filter(pk=customer_id),
        Customer.tags.through.objects.filter(customer_id=customer_id),
        Contact.objects.filter(customer_id=customer_id),
        CustomerShare.objects.filter(customer_id=customer_id),
        CustomerClaim.objects.filter(customer_id=customer_id),
        followups,
        attachments_for(Customer, [customer_id]),
        attachments_for(FollowUp, followups.values_list("pk", flat=True)),
    ]
    rows = []
    for qs in querysets:
        rows += serializers.serialize("python", qs.order_by("pk"))
    return rows


def file_exists(name: str) -> bool:
    return default_storage.exists(name)
