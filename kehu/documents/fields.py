"""Field rules every document type's ``clean()`` shares (one place: sales and after-sales call
these, never their own copies). Each raises :class:`FieldError` with Chinese text; ``field()``
collects it under the field's name and ``raise_errors()`` refuses the save with all of them."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

from kehu.core.errors import ApplicationError, FieldError
from kehu.customers.validation import clean_text


def raise_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ApplicationError("输入有误，请检查后重试", errors=errors)


def field(errors, name, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except FieldError as exc:
        errors[name] = [str(exc)]
        return None


def text(value, label: str, limit: int, *, required: bool = False) -> str:
    text = clean_text(value, "document_text", required=required, label=label)
    if len(text) > limit:
        raise FieldError(f"{label}不能超过{limit}个字符")
    return text


def when(value, label: str):
    """A date or date-time from a form, the API (ISO text) or code; "" → None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime.combine(value, datetime.min.time()))
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise FieldError(f"{label}格式不正确") from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def day(value, label: str, *, required: bool = False):
    if value in (None, ""):
        if required:
            raise FieldError(f"请填写{label}")
        return None
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise FieldError(f"{label}格式不正确") from None


def user(value, label: str):
    if value in (None, ""):
        return None
    from kehu.org.models import User

    if isinstance(value, User):
        return value
    found = User.objects.filter(pk=value, is_active=True).first() if str(value).isdigit() else None
    if found is None:
        raise FieldError(f"{label}不存在或已停用")
    return found


def visible_document(decl_model, user, pk, label: str, customer=None):
    """A document the actor sees (a contract for a payment …), else a Chinese field error."""
    from kehu.documents.selectors import document_list
    from kehu.documents.types import for_model

    if pk in (None, ""):
        raise FieldError(f"请选择{label}")
    pk = getattr(pk, "pk", pk)
    found = (
        document_list(for_model(decl_model), user=user).filter(pk=pk).first()
        if str(pk).isdigit() and len(str(pk)) < 19
        else None
    )
    if found is None:
        raise FieldError(f"{label}不存在或无权查看")
    if customer is not None and found.customer_id != customer.pk:
        raise FieldError(f"{label}不属于该客户")
    return found
