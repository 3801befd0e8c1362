"""The demo data tells one coherent story (issue 14 point 17), checked over ``seed_demo``'s
output: company names match their regions, every 最后跟进 has its follow-up record, nothing
enters the pool before it was created, contacts and follow-ups spread over months, converted
leads carry company names."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Max, Min

from kehu.customers.demo import place_name
from kehu.customers.models import Contact, Customer
from kehu.followups.models import FollowUp
from kehu.sales.models import Contract, Lead, LeadStatus, Payment

COMPANY = ("有限公司", "有限责任公司", "股份有限公司", "厂", "商行")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """``seed_demo`` once for the module, rolled back afterwards (each test runs in a savepoint
    inside this transaction)."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_company_names_match_their_regions(demo):
    checked = 0
    for customer in Customer.objects.select_related("city", "province").exclude(
        name="测试客户A有限公司"
    ):
        place = place_name(customer.city or customer.province)
        if place:
            assert customer.name.startswith(place), (customer.name, place)
            checked += 1
    assert checked >= 250


def test_every_last_followup_has_its_record(demo):
    last = dict(
        FollowUp.objects.filter(customer__isnull=False)
        .values_list("customer_id")
        .annotate(at=Max("followed_at"))
    )
    followed = Customer.objects.exclude(last_followup_at=None)
    assert followed.count() >= 250
    for pk, at in followed.values_list("pk", "last_followup_at"):
        assert last.get(pk) == at, pk


def test_nothing_enters_the_pool_before_it_was_created_or_last_followed(demo):
    pooled = Customer.objects.filter(owner__isnull=True)
    assert pooled.count() >= 50
    for customer in pooled:
        assert customer.pooled_at is not None
        assert customer.pooled_at >= customer.created_at
        assert customer.last_followup_at is None or customer.pooled_at >= customer.last_followup_at
        assert customer.previous_owner_id is not None


def test_history_spreads_over_months_and_starts_after_creation(demo):
    span = FollowUp.objects.aggregate(first=Min("followed_at"), last=Max("followed_at"))
    assert (span["last"] - span["first"]).days > 180
    months = {(d.year, d.month) for d in FollowUp.objects.values_list("followed_at", flat=True)}
    assert len(months) >= 6
    contact_months = {
        (d.year, d.month) for d in Contact.objects.values_list("created_at", flat=True)
    }
    assert len(contact_months) >= 6
    # (a converted lead's follow-ups predate its customer: they are the lead's history)
    early = FollowUp.objects.filter(
        customer__isnull=False, lead__isnull=True, followed_at__lt=F("customer__created_at")
    )
    assert not early.exists()
    assert not Contact.objects.filter(created_at__lt=F("customer__created_at")).exists()


def test_documents_come_after_their_customer(demo):
    assert not Contract.objects.filter(signed_at__lt=F("customer__created_at")).exists()
    assert Payment.objects.exists()


def test_converted_leads_carry_company_names(demo):
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED).select_related("customer")
    assert converted.exists()
    for lead in converted:
        assert lead.customer is not None and lead.customer.name == lead.name
        assert lead.name.endswith(COMPANY), lead.name
    for lead in Lead.objects.all():
        assert lead.name.endswith(COMPANY), lead.name
