"""查重's similar names: the candidate rule (``dedupe.similar_candidates_q``, btree and
single-trigram lookups) finds exactly the names pg_trgm's ``%`` operator finds."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.customers.dedupe import find_duplicates, similar_candidates_q, similar_names, trigrams
from kehu.customers.models import Customer

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram similarity is PostgreSQL's (pg_trgm)"
)

NAMES = [
    "厦门",  # the query's first two characters: similar to a four-character query
    "厦门叉",
    "厦门叉车行",
    "厦门顺达叉车",  # shares only the padded trigrams "  厦", " 厦门", "叉车 " (0.33)
    "厦门顺达通叉车",  # the same three, one trigram longer: 0.3
    "厦门顺达通运叉车",  # and longer still: under 0.3
    "厦华叉车",  # "  厦" and "叉车 " only
    "泉州叉车",
    "门叉车",
    "厦门叉车叉车",
    "厦门恒通物流",
    "泉州顺发建材",
    "泉州顺发物流",
    "泉州建材",
    "泉州永顺建材",
    "abc叉车",
    "abcd",
]


def same_as_operator(norm: str) -> None:
    got = set(similar_names(Customer.objects.all(), norm).values_list("name_normalized", flat=True))
    want = set(
        Customer.objects.filter(name_normalized__trigram_similar=norm)
        .exclude(name_normalized=norm)
        .values_list("name_normalized", flat=True)
    )
    assert got == want, norm


@pytest.fixture
def names(org):
    Customer.objects.bulk_create(
        Customer(name=n, name_normalized=n, owner=org["sales1"], creator=org["sales1"])
        for n in NAMES
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "norm",
    ["厦门叉车", "泉州顺发建材", "厦门恒通物流", "厦门顺达叉车", "abc叉车", "abcd", "厦门叉"],
)
def test_candidates_find_what_the_operator_finds(names, norm):
    same_as_operator(norm)


@pytest.mark.django_db
def test_the_rule_applies_from_five_trigrams(names):
    assert similar_candidates_q("厦门叉") is None  # four trigrams: the operator itself
    assert similar_candidates_q("厦门叉车") is not None
    assert len(trigrams("厦门叉车")) == 5
    # 厦门顺达叉车 shares only padded trigrams with 厦门叉车 and is found (0.33 ≥ 0.3).
    found = {m.name for m in find_duplicates(name="厦门叉车有限公司")}
    assert {"厦门顺达叉车", "厦门顺达通叉车", "厦门", "厦门叉车行"} <= found
    assert "厦门顺达通运叉车" not in found and "泉州叉车" not in found


@pytest.mark.django_db
@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stored=st.lists(st.text(alphabet="厦门叉车顺ab", min_size=1, max_size=9), max_size=25),
    norm=st.text(alphabet="厦门叉车顺ab", min_size=3, max_size=9),
)
def test_any_names_same_as_the_operator(org, stored, norm):
    Customer.objects.all().delete()
    Customer.objects.bulk_create(
        Customer(name=n, name_normalized=n, owner=org["sales1"], creator=org["sales1"])
        for n in stored
    )
    same_as_operator(norm)
