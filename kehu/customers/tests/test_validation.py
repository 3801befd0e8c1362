import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.errors import ApplicationError
from kehu.customers.validation import (
    USCC_CHARSET,
    FieldError,
    clean_bank_account,
    clean_credit_code,
    clean_customer_data,
    clean_phone,
    uscc_check_digit,
)

VALID_USCC = "91350100M000100Y43"  # a real-format code with a correct check digit


def test_known_valid_credit_code():
    assert clean_credit_code(VALID_USCC) == VALID_USCC
    assert clean_credit_code(" 91350100m000100y43 ") == VALID_USCC


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "18位"),
        ("91350100M000100Y44", "校验位"),
        ("91350100M000100I43", "无效字符"),
        ("913501OOM000100Y43", "无效字符"),
        ("91ABCDEFM000100Y43", "行政区划码"),
    ],
)
def test_invalid_credit_codes_are_refused_in_chinese(code, message):
    with pytest.raises(FieldError, match=message):
        clean_credit_code(code)


body_chars = st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9)
region = st.from_regex(r"\A[0-9]{6}\Z", fullmatch=True)


@given(region=region, body=body_chars)
def test_generated_codes_validate_and_any_changed_check_digit_fails(region, body):
    first17 = "91" + region + body
    code = first17 + uscc_check_digit(first17)
    assert clean_credit_code(code) == code
    for other in USCC_CHARSET:
        if other != code[-1]:
            with pytest.raises(FieldError):
                clean_credit_code(first17 + other)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("15263698652", "15263698652"),
        ("152 6369 8652", "15263698652"),
        ("+86 152-6369-8652", "15263698652"),
        ("0592-5551234", "0592-5551234"),
        ("05925551234", "0592-5551234"),
        ("010-12345678", "010-12345678"),
        ("0592-5551234-802", "0592-5551234-802"),
        ("0592-5551234转802", "0592-5551234-802"),
    ],
)
def test_phones_are_normalised(raw, stored):
    assert clean_phone(raw) == stored


@pytest.mark.parametrize(
    "raw", ["12345678901", "1526369865", "abc", "152636986521", "0000-1234567", "5551234"]
)
def test_bad_phones_are_refused(raw):
    with pytest.raises(FieldError, match="联系电话"):
        clean_phone(raw)


def test_bank_account_rules():
    assert clean_bank_account("6217 0018 0000 1234") == "6217 0018 0000 1234"
    with pytest.raises(FieldError, match="数字和空格"):
        clean_bank_account("6217-0018")
    with pytest.raises(FieldError, match="8至30位"):
        clean_bank_account("1234567")


@pytest.mark.django_db
def test_clean_customer_data_collects_every_field_error():
    with pytest.raises(ApplicationError) as exc:
        clean_customer_data(
            {
                "name": "x" * 101,
                "contact_name": "",
                "contact_phone": "123",
                "credit_code": "bad",
                "level": "999999",
            }
        )
    errors = exc.value.errors
    assert errors["name"] == ["客户名称不能超过100个字符"]
    assert errors["contact_name"] == ["请填写联系人"]
    assert "联系电话格式不正确" in errors["contact_phone"][0]
    assert "18位" in errors["credit_code"][0]
    assert errors["level"] == ["客户等级不存在"]


@pytest.mark.django_db
def test_disabled_or_wrong_kind_dictionary_values_are_refused():
    from kehu.basics.models import DictEntry, DictKind

    level = DictEntry.objects.filter(kind=DictKind.LEVEL).first()
    source = DictEntry.objects.filter(kind=DictKind.SOURCE).first()
    base = {"name": "甲公司", "contact_name": "张三", "contact_phone": "13900000000"}
    with pytest.raises(ApplicationError) as exc:
        clean_customer_data({**base, "level": str(source.pk)})
    assert exc.value.errors["level"] == ["客户等级不存在"]
    level.is_active = False
    level.save()
    with pytest.raises(ApplicationError) as exc:
        clean_customer_data({**base, "level": str(level.pk)})
    assert "已停用" in exc.value.errors["level"][0]
