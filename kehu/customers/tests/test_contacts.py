import json

import pytest

from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Contact, Customer
from kehu.customers.services import contact_delete, contact_save
from kehu.pool.services import release_customers


def test_add_edit_and_primary_contact_mirrors_customer(org, make_customer):
    customer = make_customer("sales1", contact_phone="13900000001")
    extra = contact_save(
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "采购王",
            "mobile": "139 1111 2222",
            "gender": "male",
        },
    )
    assert extra.mobile == "13911112222" and not extra.is_primary
    primary = customer.contacts.get(is_primary=True)
    contact_save(
        actor=org["sales1"], instance=primary, data={"name": "老板李", "mobile": "13733334444"}
    )
    customer.refresh_from_db()
    assert (customer.contact_name, customer.contact_phone, customer.version) == (
        "老板李",
        "13733334444",
        2,
    )


def test_last_contact_cannot_be_deleted_and_primary_is_handed_on(org, make_customer):
    customer = make_customer("sales1")
    primary = customer.contacts.get()
    with pytest.raises(ApplicationError, match="至少要保留一个联系人"):
        contact_delete(actor=org["sales1"], instance=primary)
    assert customer.contacts.count() == 1
    second = contact_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": customer.pk, "name": "接班人", "mobile": "13800001111"},
    )
    contact_delete(actor=org["sales1"], instance=primary)
    second.refresh_from_db()
    customer.refresh_from_db()
    assert (
        second.is_primary
        and customer.contact_name == "接班人"
        and customer.contact_phone == "13800001111"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "mobile": "123"}, "mobile"),
        ({"name": "x", "mobile": "0592-5551234"}, "mobile"),
        ({"name": "x", "email": "not-an-email"}, "email"),
        ({"name": "x", "gender": "robot"}, "gender"),
    ],
)
def test_bad_contact_input_changes_nothing(org, make_customer, data, field):
    customer = make_customer("sales1")
    with pytest.raises(ApplicationError) as exc:
        contact_save(actor=org["sales1"], instance=None, data={"customer": customer.pk, **data})
    assert field in exc.value.errors
    assert customer.contacts.count() == 1


def test_contacts_are_scoped(org, make_customer, client_for):
    mine = make_customer("sales1", name="我的客户")
    theirs = make_customer("sales2", name="别人的客户")
    with pytest.raises(ApplicationError):
        contact_save(
            actor=org["sales1"], instance=None, data={"customer": theirs.pk, "name": "偷加"}
        )
    with pytest.raises(Forbidden):
        contact_delete(actor=org["sales2"], instance=mine.contacts.get())
    html = client_for("sales1").get("/contacts/").content.decode()
    assert "我的客户" in html and "别人的客户" not in html
    body = client_for("manager1").get("/api/v1/contacts").json()
    assert {c["customer_id"] for c in body["items"]} == {mine.pk, theirs.pk}
    assert (
        client_for("sales1").get(f"/api/v1/contacts?customer_id={theirs.pk}").json()["count"] == 0
    )


def test_pool_customer_contacts_are_masked_in_the_api(org, make_customer, client_for):
    customer = make_customer("sales1", contact_phone="15263698652")
    contact_save(
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "邮箱人",
            "email": "abc@example.com",
            "phone": "0592-5551234",
        },
    )
    release_customers(actor=org["sales1"], ids=[customer.pk])
    from kehu.customers.api_contacts import contact_out

    for contact in Contact.objects.filter(customer=customer).select_related("customer"):
        out = str(contact_out(contact))
        assert "15263698652" not in out and "abc@example.com" not in out and "5551234" not in out
    # and the contacts list of a salesperson no longer lists them (the pool is not theirs)
    assert client_for("sales1").get("/api/v1/contacts").json()["count"] == 0


def test_contact_api_crud(org, make_customer, client_for):
    customer = make_customer("sales1")
    api = client_for("sales1")
    created = api.post(
        "/api/v1/contacts",
        json.dumps(
            {
                "customer_id": customer.pk,
                "name": "新人",
                "mobile": "13500001111",
                "gender": "female",
                "is_decision_maker": True,
            }
        ),
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["gender"] == "female"
    cid = created.json()["id"]
    patched = api.patch(
        f"/api/v1/contacts/{cid}",
        json.dumps({"position": "采购经理"}),
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["position"] == "采购经理"
    bad = api.patch(
        f"/api/v1/contacts/{cid}", json.dumps({"mobile": "1"}), content_type="application/json"
    )
    assert bad.status_code == 400 and "mobile" in bad.json()["errors"]
    assert api.delete(f"/api/v1/contacts/{cid}").status_code == 204
    last = customer.contacts.get()
    refused = api.delete(f"/api/v1/contacts/{last.pk}")
    assert refused.status_code == 400 and "至少要保留一个联系人" in refused.json()["detail"]
    assert Customer.objects.get(pk=customer.pk).contacts.count() == 1
