"""The keyword box (``q``) finds exactly the customers a plain ``icontains`` finds — on the indexed
path of PostgreSQL and the spelled-out one of SQLite — and on PostgreSQL every kind of word is
served by an index (kehu/customers/search.py)."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.db.models import Q
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.customers.models import Customer
from kehu.customers.search import KEYWORD_FIELDS, keyword_q
from kehu.pool.rules import default_pool

CITIES = ["厦门", "福州", "上海", "泉州"]
BRANDS = ["恒通", "华达", "通恒", "ABC", "abc", "Hi-Tech", "鑫源", "叉车王"]
TRADES = ["物流", "叉车", "仓储", "五金", "贸易"]
SUFFIXES = ["有限公司", "股份有限公司", "厂", ""]
SURNAMES = "王李张刘陈"
GIVEN = ["伟", "芳", "小明", "Tom", "ab"]
# Rows no generator would make: wildcards, a backslash, mixed case, the separator's neighbours.
ODD = [
    ("100%叉车_公司", "王_五", "0592-5555123", ""),
    ("反斜杠\\贸易", "李%", "13900001111", "91350200MA2XYZ1234"),
    ("Linde林德叉车", "ZHANG san", "021-66668888", "91310000ABCDEFGH5X"),
    ("恒", "恒", "138", ""),
]
ALPHABET = "厦门恒通华达物流叉车有限公司王李伟ABCabcHh-i%_\\ 0123589MXZ"


def reference(value: str, fields=KEYWORD_FIELDS) -> Q:
    q = Q()
    for field in fields:
        q |= Q(**{f"{field}__icontains": value})
    return q


@pytest.fixture
def customers(org):
    rng = random.Random(15)
    rows = list(ODD)
    for _ in range(60):
        name = rng.choice(CITIES) + rng.choice(BRANDS) + rng.choice(TRADES) + rng.choice(SUFFIXES)
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = (
            f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}"
            if rng.random() < 0.8
            else f"0{rng.randint(10, 999)}-{rng.randint(1_000_000, 9_999_999)}"
        )
        code = (
            f"9135{rng.randint(0, 99):02d}00MA{rng.randint(0, 99999999):08d}"
            if rng.random() < 0.6
            else ""
        )
        rows.append((name, contact, phone, code[:18]))
    pool = default_pool()
    made = Customer.objects.bulk_create(
        Customer(
            name=name,
            contact_name=contact,
            contact_phone=phone,
            credit_code=code or "",
            owner=None if i % 5 == 0 else org["sales1"],
            pool=pool if i % 5 == 0 else None,
            creator=org["sales1"],
        )
        # Unique credit codes (the constraint): blank the duplicates.
        for i, (name, contact, phone, code) in enumerate(_unique_codes(rows))
    )
    texts = [c for row in rows for c in row if c]
    return {"ids": {c.pk for c in made}, "texts": texts}


def _unique_codes(rows):
    seen = set()
    for name, contact, phone, code in rows:
        if code in seen:
            code = ""
        seen.add(code)
        yield name, contact, phone, code


def ids(q: Q) -> set[int]:
    return set(Customer.objects.filter(q).values_list("pk", flat=True))


def words(draw_data, texts):
    """A word to search: usually a piece of a stored value (so that there are matches), in any
    case; sometimes anything from the alphabet."""
    if draw_data.draw(st.booleans()):
        text = draw_data.draw(st.sampled_from(texts))
        start = draw_data.draw(st.integers(0, len(text) - 1))
        length = draw_data.draw(st.integers(1, 6))
        word = text[start : start + length]
        return draw_data.draw(st.sampled_from([word, word.upper(), word.lower()]))
    return draw_data.draw(st.text(alphabet=ALPHABET, min_size=1, max_size=5))


@hsettings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_keyword_box_finds_what_icontains_finds(customers, data):
    value = words(data, customers["texts"])
    assert ids(keyword_q(value)) == ids(reference(value))


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_pools_keyword_box_leaves_phones_and_codes_out(customers, data):
    value = words(data, customers["texts"])
    fields = ("name", "contact_name")
    assert ids(keyword_q(value, fields=fields)) == ids(reference(value, fields))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("叉车", "Linde林德叉车"),  # two characters, in names
        ("林德叉", "Linde林德叉车"),  # three
        ("linde林德", "Linde林德叉车"),  # Latin letters in another case, mixed with Chinese
        ("5555", "100%叉车_公司"),  # a phone fragment
        ("0592-555", "100%叉车_公司"),
        ("ma2xyz", "反斜杠\\贸易"),  # a credit-code fragment, lower case
        ("zhang", "Linde林德叉车"),  # contact name
        ("%叉", "100%叉车_公司"),  # wildcards are characters
        ("\\", "反斜杠\\贸易"),
    ],
)
def test_each_field_and_kind_of_word_is_found(customers, value, expected):
    names = set(Customer.objects.filter(keyword_q(value)).values_list("name", flat=True))
    assert expected in names
    assert names == set(Customer.objects.filter(reference(value)).values_list("name", flat=True))


def test_no_match_spans_two_fields(customers):
    # "恒" + "恒" (name, contact) and "138": the joined text never lets "恒恒" or "恒138" match.
    assert ids(keyword_q("恒恒")) == ids(reference("恒恒"))
    assert not ids(keyword_q("恒138")) & customers["ids"]
    assert ids(keyword_q("\x1f")) == set()


@pytest.mark.parametrize(
    "value, index",
    [
        ("叉车", "cust_keyword_grams"),  # 2 Chinese characters
        ("王", "cust_keyword_grams"),  # 1
        ("厦门恒", "cust_keyword_trgm"),  # 3
        ("厦门恒通", "cust_keyword_trgm"),  # 4
        ("13812", "cust_keyword_trgm"),  # phone fragment
        ("0592-5", "cust_keyword_trgm"),
        ("Hi-Tech物流", "cust_keyword_trgm"),  # mixed Latin
        ("A-B", "cust_keyword_grams"),  # runs too short for whole trigrams
    ],
)
def test_every_kind_of_word_is_served_by_an_index(customers, value, index):
    qs = Customer.objects.filter(keyword_q(value)).values("pk")
    sql, params = qs.query.sql_with_params()
    if connection.vendor != "postgresql":  # SQLite: the same joined text, without an index
        assert "CHAR(31)" in sql and "LIKE" in sql
        return
    with connection.cursor() as cursor:
        # Could an index find the rows? (On 84 rows the planner would rightly read them all.)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # a bitmap needs an index condition
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on cust_keyword_" in plan, plan  # which of the two: the planner's


def test_a_frequent_short_word_is_read_in_order_with_the_same_rows(customers, monkeypatch):
    """A two-character word in most names (有限, 叉车 at a forklift dealer's) skips the pairs
    index on PostgreSQL — the list is read in its order until the page is full — and still
    finds exactly the same customers."""
    from kehu.customers import search

    monkeypatch.setattr(search, "_grams_share", lambda grams: 0.5)
    for value in ["叉车", "有限", "王", "A-B"]:
        sql = str(Customer.objects.filter(keyword_q(value)).query)
        assert "kehu_grams" not in sql
        assert ids(keyword_q(value)) == ids(reference(value))
    monkeypatch.setattr(search, "_grams_share", lambda grams: 0.001)
    if connection.vendor == "postgresql":  # a rare one keeps the index
        assert "kehu_grams" in str(Customer.objects.filter(keyword_q("叉车")).query)


def test_digit_words_of_one_or_two_digits_skip_the_pairs_index(customers):
    """The pairs index leaves out digits alone (a customer's phone and credit code made most of
    its keys): a word of one or two digits is read without it, with the same rows."""
    from kehu.customers.search import grams_of

    assert grams_of("13") == [] and grams_of("5") == [] and grams_of("A1") == ["A1"]
    for value in ["13", "5", "59", "0-", "A-1"]:
        sql = str(Customer.objects.filter(keyword_q(value)).query)
        assert ("kehu_grams" in sql) == (
            connection.vendor == "postgresql" and value in {"0-", "A-1"}
        )
        assert ids(keyword_q(value)) == ids(reference(value))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT kehu_grams(%s)", ["恒1" + chr(31) + "23"])
            assert sorted(cursor.fetchone()[0]) == ["恒", "恒1"]


def expected_grams(text: str) -> set[str]:
    """What the pairs index keeps of a text (migrations 0013, 0016): every character and pair of
    adjacent characters, but digits alone and anything holding the fields' separator."""
    grams = set(text) | {text[i : i + 2] for i in range(len(text) - 1)}
    return {g for g in grams if not (g.isascii() and g.isdigit()) and chr(31) not in g}


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="kehu_grams is PostgreSQL's")
@hsettings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=ALPHABET + "0" + chr(31) + "一", max_size=40))
def test_the_pairs_function_keeps_every_character_and_pair_but_digits_and_separators(text):
    """The inlined ``kehu_grams`` (migration 0016: regular expressions, no subquery) gives the
    keys of its definition — odd and even lengths, digit runs next to letters, separators at
    either end, empty texts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT kehu_grams(%s)", [text])
        keys = cursor.fetchone()[0]
    assert "" not in keys
    assert set(keys) == expected_grams(text)
