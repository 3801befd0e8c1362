"""The one allocation function shared by transfer and import (SPEC §4.3)."""

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.errors import ApplicationError
from kehu.pool.allocation import allocate


def test_even_is_round_robin_in_the_given_order():
    assert allocate(5, ["a", "b"], "even") == ["a", "b", "a", "b", "a"]
    assert Counter(allocate(5, ["a", "b"], "even")) == {"a": 3, "b": 2}
    assert allocate(2, ["b", "a", "c"], "even") == ["b", "a"]
    assert allocate(0, ["a"], "even") == []


@given(count=st.integers(min_value=0, max_value=500), k=st.integers(min_value=1, max_value=30))
def test_even_counts_differ_by_at_most_one(count, k):
    targets = [f"user{i}" for i in range(k)]
    result = allocate(count, targets, "even")
    assert len(result) == count
    counts = [result.count(t) for t in targets]
    assert max(counts) - min(counts) <= 1
    # Round-robin: the first ones in the given order get the extra record.
    assert counts == sorted(counts, reverse=True)


def test_random_is_uniform_with_a_seeded_generator():
    targets = ["a", "b", "c", "d"]
    result = allocate(10_000, targets, "random", rng=random.Random(20240601))
    counts = Counter(result)
    assert set(counts) == set(targets)
    for target in targets:
        assert abs(counts[target] - 2_500) <= 2_500 * 0.05, counts


def test_random_is_reproducible_with_the_same_seed_and_only_picks_targets():
    first = allocate(50, ["a", "b", "c"], "random", rng=random.Random(7))
    second = allocate(50, ["a", "b", "c"], "random", rng=random.Random(7))
    assert first == second
    assert set(first) <= {"a", "b", "c"}
    assert set(allocate(20, ["a", "b"], "random")) <= {"a", "b"}  # system randomness


@pytest.mark.parametrize("mode", ["weird", "", "EVEN", "round_robin"])
def test_unknown_mode_is_refused_in_chinese(mode):
    with pytest.raises(ApplicationError) as exc:
        allocate(3, ["a", "b"], mode)
    assert exc.value.message == "分配方式无效"
    assert exc.value.code == "invalid_allocation"
    assert "平均分配" in exc.value.errors["allocation"][0]


@pytest.mark.parametrize("mode", ["even", "random"])
def test_no_targets_is_refused(mode):
    with pytest.raises(ApplicationError) as exc:
        allocate(3, [], mode)
    assert exc.value.message == "请选择目标员工"
    assert exc.value.errors == {"user_ids": ["请至少选择一名目标员工"]}
