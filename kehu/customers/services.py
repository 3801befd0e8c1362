"""Customer writes (SPEC §2.2): create, update with optimistic locking, delete, share.

Every function is keyword-only, atomic, validates through ``validation`` and writes the change log.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import F, prefetch_related_objects

from kehu.audit.models import Action
from kehu.audit.services import change_entry, record_change, record_changes, snapshot
from kehu.basics.regions import parse_address, region_centroid
from kehu.core import memo
from kehu.core.attachments import attach_files
from kehu.core.errors import ApplicationError, Conflict, NotFound
from kehu.core.registry import delete_refusal, delete_refusals
from kehu.core.services import BatchResult, check_batch_size
from kehu.org.authz import authorize
from kehu.org.models import User
from kehu.pool import rules as pool_rules
from kehu.recyclebin.services import recycle, recycle_many

from .dedupe import normalize_name
from .models import Contact, Customer, CustomerShare, DuplicateCheckSource
from .selectors import document_customer, visible_customers
from .throttle import duplicate_check
from .validation import clean_coordinates, clean_customer_data, clean_regions

SIMPLE_FIELDS = (
    "name",
    "legal_person",
    "credit_code",
    "bank_name",
    "bank_account",
    "industry",
    "products",
    "raw_materials",
    "address",
    "contact_name",
    "contact_phone",
    "level",
    "source",
    "remark",
    "next_followup_at",
)
STALE_MESSAGE = "该客户已被他人修改，请刷新后重试"


def _customer_snapshot(customer: Customer) -> dict[str, Any]:
    data = snapshot(customer)
    data.pop("name_normalized", None)
    if customer.pk:
        data["tags"] = sorted(t.pk for t in customer.tags.all())
    return data


def _check_credit_code(code: str, exclude_id: int | None) -> None:
    if not code:
        return
    clashes = Customer.objects.filter(credit_code=code)
    if exclude_id is not None:
        clashes = clashes.exclude(pk=exclude_id)
    clash = clashes.first()
    if clash:
        raise ApplicationError(
            "统一社会信用代码已存在",
            code="duplicate_credit_code",
            errors={"credit_code": [f"该统一社会信用代码已被客户「{clash.name}」使用"]},
        )


def _check_duplicates(
    cleaned: dict, *, actor: User | None, exclude_id: int | None, changed: set[str]
) -> None:
    """Similar name or same phone: the user must confirm (SPEC §2.2). The check counts against
    the actor's 查重 quota (SPEC §13): beyond it the save is refused (429) and nothing is saved."""
    name = cleaned.get("name") if "name" in changed else None
    phone = cleaned.get("contact_phone") if "contact_phone" in changed else None
    if not name and not phone:
        return
    matches = duplicate_check(
        actor=actor,
        source=DuplicateCheckSource.FORM,
        name=name,
        phone=phone,
        exclude_id=exclude_id,
    )
    if matches:
        raise ApplicationError(
            "发现疑似重复的客户，请确认后再保存",
            code="possible_duplicates",
            extra={"matches": [m.as_public_dict() for m in matches]},
        )


def _apply_location(customer: Customer, cleaned: dict, data: dict) -> None:
    """省/市/区 nest; when all three are empty they are derived from 详细地址 (cpca, SPEC §2.4 —
    the form and the API send empty pickers, so "given" means a value, not a key);
    coordinates default to the division's centroid."""
    keys = ("province", "city", "district")
    if any(k in data for k in keys):
        p, c, d = clean_regions(
            data.get("province", customer.province),
            data.get("city", customer.city),
            data.get("district", customer.district),
        )
        customer.province, customer.city, customer.district = p, c, d
    derived = False
    address = cleaned.get("address", customer.address)
    touched = customer.pk is None or "address" in cleaned or any(k in data for k in keys)
    empty = not (customer.province_id or customer.city_id or customer.district_id)
    if touched and address and empty:
        parsed = parse_address(address)
        if parsed.get("province"):
            customer.province_id = parsed["province"]
            customer.city_id = parsed.get("city")
            customer.district_id = parsed.get("district")
            derived = True
    lon, lat = clean_coordinates(data.get("longitude"), data.get("latitude"))
    if lon is not None and lat is not None:
        customer.longitude, customer.latitude = lon, lat
    elif derived or any(k in data for k in keys) or customer.longitude is None:
        region = customer.district_id or customer.city_id or customer.province_id
        centroid = region_centroid(region) if region else None
        customer.longitude, customer.latitude = centroid if centroid else (None, None)


def primary_contact_for(customer: Customer) -> Contact:
    """The (unsaved) primary contact a customer's 联系人/联系电话 give: a mobile goes to 手机,
    a landline to 电话 (SPEC §2.1, §5.3). Form, API, import and leads all create it here."""
    contact = Contact(
        customer=customer,
        name=customer.contact_name,
        is_primary=True,
        is_decision_maker=True,
        remark="自动添加",
    )
    _put_phone(contact, customer.contact_phone)
    return contact


def _put_phone(contact: Contact, number: str) -> None:
    if number.startswith("1"):
        contact.mobile = number
    else:
        contact.phone = number


def _sync_primary_contact(customer: Customer) -> None:
    """The primary contact mirrors 联系人 and 联系电话 (SPEC §5.3)."""
    contact = customer.contacts.filter(is_primary=True).first()
    if contact is None:
        primary_contact_for(customer).save()
        return
    contact.name = customer.contact_name
    _put_phone(contact, customer.contact_phone)
    contact.save(update_fields=["name", "mobile", "phone"])


def warn_duplicates(*, actor: User, data: dict[str, Any]) -> None:
    """The duplicate warning of a new customer's data, for callers that create one inside their
    own transaction (lead conversion): call it before that transaction opens, so that the 查重
    it counts and logs is not rolled back with a save it stops."""
    cleaned = clean_customer_data(data)
    _check_duplicates(cleaned, actor=actor, exclude_id=None, changed={"name", "contact_phone"})


def customer_create(
    *,
    actor: User,
    data: dict[str, Any],
    files=(),
    confirm_duplicates: bool = False,
    owner: User | None = None,
) -> Customer:
    """Create a customer; the creator becomes its owner unless ``owner`` says otherwise.

    The checks that only read come first, the duplicate warning (a 查重 counted against the
    actor's quota and logged) before the transaction opens, so a save it stops still counts;
    then the insert, atomic, with 拥有上限 checked again under a lock of the owner."""
    target = owner or actor
    authorize(actor, "add", Customer(owner=target))
    cleaned = clean_customer_data(data)
    if target is not None:
        pool_rules.check_ownership_limit(target, 1)
    _check_credit_code(cleaned["credit_code"], None)
    if not confirm_duplicates:
        _check_duplicates(cleaned, actor=actor, exclude_id=None, changed={"name", "contact_phone"})
    return _insert_customer(actor=actor, owner=target, cleaned=cleaned, data=data, files=files)


@transaction.atomic
def _insert_customer(*, actor, owner, cleaned: dict, data: dict, files) -> Customer:
    if owner is not None:
        pool_rules.lock_users([owner.pk])  # parallel creates and claims count one after another
        pool_rules.check_ownership_limit(owner, 1)
    customer = Customer(creator=actor, owner=owner)
    for field in SIMPLE_FIELDS:
        if field in cleaned:
            setattr(customer, field, cleaned[field])
    customer.referrer = data.get("referrer")
    customer.name_normalized = normalize_name(customer.name)
    _apply_location(customer, cleaned, data)
    customer.save()
    customer.tags.set(cleaned.get("tags") or [])
    _sync_primary_contact(customer)
    attach_files(actor=actor, obj=customer, files=files)
    pool_rules.refresh_return_due([customer.pk])
    record_change(
        actor=actor, action=Action.CREATE, obj=customer, after=_customer_snapshot(customer)
    )
    return customer


def customer_update(
    *,
    actor: User,
    customer: Customer,
    data: dict[str, Any],
    version: int | None,
    files=(),
    confirm_duplicates: bool = False,
    partial: bool = False,
) -> Customer:
    """Update with optimistic locking: a stale ``version`` is refused and nothing is written.

    Like :func:`customer_create`, the duplicate warning (a counted, logged 查重) runs before the
    transaction; the locked re-read inside refuses anything that changed meanwhile."""
    stored = _checked_for_update(actor=actor, pk=customer.pk, version=version)
    cleaned = clean_customer_data(data, partial=partial)
    if "credit_code" in cleaned:
        _check_credit_code(cleaned["credit_code"], stored.pk)
    changed: set[str] = {
        f for f in ("name", "contact_phone") if f in cleaned and cleaned[f] != getattr(stored, f)
    }
    if changed and not confirm_duplicates:
        _check_duplicates(cleaned, actor=actor, exclude_id=stored.pk, changed=changed)
    return _save_update(
        actor=actor, pk=stored.pk, version=version, cleaned=cleaned, data=data, files=files
    )


def _checked_for_update(*, actor: User, pk: int, version: int | None, lock: bool = False):
    """The stored customer, refused unless ``actor`` may change it at ``version``."""
    rows = Customer.objects.select_for_update() if lock else Customer.objects
    current = rows.filter(pk=pk).first()
    if current is None:
        raise NotFound("客户不存在或无权查看")
    authorize(actor, "change", current)
    if version is None:
        raise ApplicationError("缺少版本号", errors={"version": ["请提供 version"]})
    if current.version != version:
        raise Conflict(
            STALE_MESSAGE, code="stale_version", extra={"current_version": current.version}
        )
    return current


@transaction.atomic
def _save_update(*, actor, pk: int, version, cleaned: dict, data: dict, files) -> Customer:
    current = _checked_for_update(actor=actor, pk=pk, version=version, lock=True)
    before = _customer_snapshot(current)
    for field in SIMPLE_FIELDS:
        if field in cleaned:
            setattr(current, field, cleaned[field])
    if "referrer" in data:
        current.referrer = data["referrer"]
    current.name_normalized = normalize_name(current.name)
    _apply_location(current, cleaned, data)
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    if "tags" in cleaned:
        current.tags.set(cleaned["tags"])
    _sync_primary_contact(current)
    attach_files(actor=actor, obj=current, files=files)
    pool_rules.refresh_return_due([current.pk])
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=current,
        before=before,
        after=_customer_snapshot(current),
    )
    return current


def customer_delete_refusal(customer: Customer) -> str | None:
    """Why ``customer`` may not be deleted (SPEC §2.2), or None. Documents register guards."""
    if customer.receivable_total != 0:
        return "该客户有待收款金额，不能删除"
    return delete_refusal(customer)


@transaction.atomic
def customer_delete(*, actor: User, customer: Customer) -> None:
    current = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if current is None:
        raise NotFound("客户不存在或无权查看")
    authorize(actor, "delete", current)
    reason = customer_delete_refusal(current)
    if reason:
        raise ApplicationError(reason, code="in_use")
    before = _customer_snapshot(current)
    before["contacts"] = [snapshot(c) for c in current.contacts.all()]
    record_change(actor=actor, action=Action.DELETE, obj=current, before=before)
    # to the 回收站 with its contacts, follow-ups, shares and attachments (SPEC §13)
    recycle(actor=actor, obj=current)


def customers_batch_delete(*, actor: User, ids: list[int]) -> BatchResult:
    """Delete the deletable ones; report per refused customer why (SPEC §2.2).

    Set-based, with the refusals of :func:`customer_delete` (same messages): the visible
    customers are read and locked in one query; may-delete and 待收款金额 are checked in memory,
    the registered delete guards once for the whole set (:func:`kehu.core.registry.
    delete_refusals`); the deletable ones are logged in one INSERT (with their tags and
    contacts, two queries) and go to the 回收站 together (:func:`recycle_many`). A constant
    number of queries whatever the batch size, at most ``KEHU_BATCH_MAX_IDS`` ids."""
    authorize(actor, "delete", Customer)
    check_batch_size(ids)
    wanted = list(dict.fromkeys(ids))
    reasons: dict[int, str] = {}
    with memo.scope(), transaction.atomic():
        locked = visible_customers(actor).filter(pk__in=wanted).order_by("pk")
        if connection.features.has_select_for_update_of:
            locked = locked.select_for_update(of=("self",))
        else:
            locked = locked.select_for_update()
        found = {c.pk: c for c in locked}
        candidates: list[int] = []
        for pk in wanted:
            customer = found.get(pk)
            if customer is None:
                reasons[pk] = "客户不存在或无权查看"
                continue
            try:
                authorize(actor, "delete", customer)
            except ApplicationError as exc:
                reasons[pk] = exc.message
                continue
            if customer.receivable_total != 0:
                reasons[pk] = "该客户有待收款金额，不能删除"
            else:
                candidates.append(pk)
        if candidates:
            refused = delete_refusals(Customer.objects.filter(pk__in=candidates))
            reasons.update((pk, refused[pk]) for pk in candidates if pk in refused)
        deletable = [found[pk] for pk in wanted if pk not in reasons]
        if deletable:
            prefetch_related_objects(deletable, "tags", "contacts")
            entries = []
            for customer in deletable:
                before = _customer_snapshot(customer)
                before["contacts"] = [snapshot(c) for c in customer.contacts.all()]
                entries.append(
                    change_entry(actor=actor, action=Action.DELETE, obj=customer, before=before)
                )
            record_changes(entries)
            # to the 回收站 with their contacts, follow-ups, shares and attachments (SPEC §13)
            recycle_many(actor=actor, objects=deletable, fresh=True)
    result = BatchResult(done=[pk for pk in wanted if pk not in reasons])
    for pk in wanted:
        if pk in reasons:
            result.refuse(pk, reasons[pk], name=found[pk].name if pk in found else "")
    return result


@transaction.atomic
def customer_share(*, actor: User, customer: Customer, user_ids: list[int]) -> list[User]:
    """Replace the list of colleagues a customer is shared with (read access). The customer's
    row is locked: a share cannot slip in beside an owner change (which ends the shares)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    authorize(actor, "share", customer)
    wanted = list(dict.fromkeys(user_ids))
    users = list(User.objects.filter(pk__in=wanted, is_active=True))
    missing = set(wanted) - {u.pk for u in users}
    if missing:
        raise ApplicationError(
            "所选员工不存在或已停用", errors={"user_ids": ["所选员工不存在或已停用"]}
        )
    if customer.owner_id in wanted:
        raise ApplicationError(
            "不能分享给客户的负责人", errors={"user_ids": ["不能分享给客户的负责人"]}
        )
    from kehu.org.selectors import customer_share_candidates

    pointless = set(wanted) - set(
        customer_share_candidates().filter(pk__in=wanted).values_list("pk", flat=True)
    )
    if pointless:
        names = "、".join(u.display_name for u in users if u.pk in pointless)
        message = f"{names} 已能查看全部客户或无权查看客户，无需分享"
        raise ApplicationError(message, errors={"user_ids": [message]})
    before = sorted(customer.shares.values_list("user_id", flat=True))
    customer.shares.exclude(user_id__in=wanted).delete()
    existing = set(customer.shares.values_list("user_id", flat=True))
    CustomerShare.objects.bulk_create(
        [
            CustomerShare(customer=customer, user=u, shared_by=actor)
            for u in users
            if u.pk not in existing
        ]
    )
    record_change(
        actor=actor,
        action=Action.SHARE,
        obj=customer,
        before={"shared_with": before},
        after={"shared_with": sorted(wanted)},
    )
    return users


# ---------------------------------------------------------------------------------------------
# Contacts (SPEC §5.3)

CONTACT_FIELDS = (
    "name",
    "mobile",
    "phone",
    "email",
    "position",
    "gender",
    "is_decision_maker",
    "birthday",
    "remark",
)


def _clean_contact(data: dict[str, Any]) -> dict[str, Any]:
    from .models import Gender
    from .validation import FieldError, clean_email, clean_phone, strip_control_characters

    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = strip_control_characters(data.get("name"), multiline=False).strip()
    if not name:
        errors["name"] = ["请填写联系人姓名"]
    elif len(name) > 50:
        errors["name"] = ["姓名不能超过50个字符"]
    cleaned["name"] = name
    for field, label in (("mobile", "手机"), ("phone", "电话")):
        try:
            cleaned[field] = clean_phone(data.get(field), label=label)
        except FieldError as exc:
            errors[field] = [str(exc)]
    if "mobile" in cleaned and cleaned["mobile"] and not cleaned["mobile"].startswith("1"):
        errors["mobile"] = ["手机应为11位手机号，座机请填写在「电话」"]
    try:
        cleaned["email"] = clean_email(data.get("email"))
    except FieldError as exc:
        errors["email"] = [str(exc)]
    for field, limit in (("position", 50), ("remark", 500)):
        value = strip_control_characters(data.get(field), multiline=field == "remark").strip()
        if len(value) > limit:
            errors[field] = [f"不能超过{limit}个字符"]
        cleaned[field] = value
    gender = data.get("gender") or Gender.UNKNOWN
    if gender not in Gender.values:
        errors["gender"] = ["性别只能是 男、女 或 未知"]
    cleaned["gender"] = gender
    cleaned["is_decision_maker"] = bool(data.get("is_decision_maker"))
    cleaned["birthday"] = data.get("birthday")
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)
    return cleaned


def _mirror_primary(contact: Contact) -> None:
    """The primary contact and the customer's 联系人/联系电话 are one fact (SPEC §5.3)."""
    if not contact.is_primary:
        return
    phone = contact.mobile or contact.phone
    updates: dict[str, Any] = {"contact_name": contact.name}
    if phone:
        updates["contact_phone"] = phone
    Customer.objects.filter(pk=contact.customer_id).update(version=F("version") + 1, **updates)


@transaction.atomic
def contact_save(*, actor: User, instance: Contact | None, data: dict[str, Any]) -> Contact:
    """Add a contact to a visible customer the actor manages, or edit one."""
    if instance is None:
        customer = document_customer(user=actor, customer=data.get("customer") or None)
    else:
        customer = instance.customer
    if instance is None:
        authorize(actor, "add", Contact(customer=customer))
    else:
        authorize(actor, "change", instance)
    cleaned = _clean_contact(data)
    contact = instance or Contact(customer=customer)
    before = snapshot(contact) if instance else None
    for field, value in cleaned.items():
        setattr(contact, field, value)
    contact.save()
    _mirror_primary(contact)
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=contact,
        before=before,
        after=snapshot(contact),
        message=f"客户「{customer.name}」的联系人",
    )
    return contact


@transaction.atomic
def contact_delete(*, actor: User, instance: Contact) -> None:
    """A customer keeps at least one contact; deleting the primary promotes the next one."""
    customer = Customer.objects.select_for_update().get(pk=instance.customer_id)
    instance.customer = customer
    authorize(actor, "delete", instance)
    others = customer.contacts.exclude(pk=instance.pk).order_by("id")
    if not others.exists():
        raise ApplicationError("客户至少要保留一个联系人", code="last_contact")
    record_change(
        actor=actor,
        action=Action.DELETE,
        obj=instance,
        before=snapshot(instance),
        message=f"客户「{customer.name}」的联系人",
    )
    was_primary = instance.is_primary
    recycle(actor=actor, obj=instance)  # 回收站 (SPEC §13)
    successor = others.first()
    if was_primary and successor is not None:
        successor.is_primary = True
        successor.save(update_fields=["is_primary"])
        _mirror_primary(successor)


@transaction.atomic
def customer_attach(*, actor: User, customer: Customer, files) -> list:
    """Attach files to a customer (SPEC §9): a change of the customer."""
    current = Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if current is None:
        raise NotFound("客户不存在或无权查看")
    authorize(actor, "change", current)
    attachments = attach_files(actor=actor, obj=current, files=files)
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=current,
        after={"attachments": [a.original_name for a in attachments]},
        before={"attachments": []},
        message="上传附件",
    )
    return attachments
