"""Allocation of records to employees (SPEC §4.3) — the one function transfer and import share.

``even``: round-robin in the given order, so counts differ by at most one.
``random``: each record to a uniformly random employee (pass a seeded ``random.Random`` in tests).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from kehu.core.errors import ApplicationError

T = TypeVar("T")

MODES = {"even": "平均分配", "random": "随机分配"}


def allocate(
    count: int,
    targets: Sequence[T],
    mode: str,
    rng: random.Random | None = None,
    *,
    start: int = 0,
) -> list[T]:
    """The target of each of ``count`` records, in record order. ``start`` is how many records
    were allocated before (a batch of a longer run): ``even`` continues the rotation there."""
    if mode not in MODES:
        raise ApplicationError(
            "分配方式无效",
            code="invalid_allocation",
            errors={"allocation": ["分配方式只能是 even（平均分配）或 random（随机分配）"]},
        )
    if not targets:
        raise ApplicationError(
            "请选择目标员工", code="no_target", errors={"user_ids": ["请至少选择一名目标员工"]}
        )
    if mode == "even":
        return [targets[(start + i) % len(targets)] for i in range(count)]
    chooser = rng or random.SystemRandom()
    return [chooser.choice(targets) for _ in range(count)]
