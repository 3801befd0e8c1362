"""Duplicate matching (查重) — the one place names are normalised and near matches found (SPEC §2.3).

Anybody may ask whether a customer exists; the answer carries only name, owner (or 公海), status
and created date (SPEC §10.1), never contact data, so a salesperson learns that a customer exists
and who has it, nothing more. Users reach :func:`find_duplicates` only through
``throttle.duplicate_check`` (per-user quota and log, SPEC §13).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q

SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "厂", "店")
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)
MAX_MATCHES = 20
SIMILARITY = 0.3  # pg_trgm's similarity_threshold, the ``%`` operator's (never changed here)


def normalize_name(name: str | None) -> str:
    """Full-width → half-width, lower case, no spaces or punctuation, common suffixes removed."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _PUNCT_RE.sub("", text)
    changed = True
    while changed and text:
        changed = False
        for suffix in SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
    return text


@dataclass(frozen=True)
class DuplicateMatch:
    id: int
    name: str
    owner_name: str | None
    in_pool: bool
    status: str
    status_label: str
    created_at: datetime
    reason: str  # name_exact | name_similar | phone | credit_code

    def as_public_dict(self) -> dict:
        """Exactly SPEC §10.1's fields. Not ``reason``: with a name and a phone asked together,
        "phone" would point at the one match holding that (masked) phone."""
        return {
            "name": self.name,
            "owner_name": self.owner_name,
            "in_pool": self.in_pool,
            "status": self.status,
            "created_at": self.created_at,
        }


def _contains_q(norm: str) -> Q:
    """``name_normalized`` contains ``norm``: from three characters on the pg_trgm index serves
    the ``LIKE``; two characters have no trigram, so their pair is looked up in the bigram index
    of migration customers 0009 first."""
    q = Q(name_normalized__contains=norm)
    if connection.vendor == "postgresql" and len(norm) == 2:
        from django.contrib.postgres.fields.array import ArrayContains

        from .search import Bigrams

        q &= Q(ArrayContains(Bigrams("name_normalized"), [norm]))
    return q


def trigrams(norm: str) -> set[str]:
    """pg_trgm's trigrams of a normalised name (one word: two spaces before, one after)."""
    padded = f"  {norm} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similar_candidates_q(norm: str) -> Q | None:
    """A condition every name with trigram similarity ≥ ``SIMILARITY`` to ``norm`` meets, served
    by btree and single-trigram lookups — or None where it would not narrow enough.

    The ``%`` operator's index scan reads the posting list of every trigram of ``norm``; the two
    padded ones at its start ("  厦", " 厦门") are in every name starting the same way (225,550
    of 1,000,000 for 厦门), so 厦门叉车 took 24–85 ms before a single name was compared. Here:
    with ``s`` trigrams shared out of ``|A|`` and ``|B|``, similarity ``s / (|A| + |B| - s)``
    ≥ t needs ``s ≥ t·|A|``. A name sharing an inner trigram of ``norm`` contains it (``LIKE``,
    one trigram on the index). One sharing none shares only padded ones — "  a", " ab" (it
    starts with a, ab) and "yz " (it ends with yz):

    - it ends with yz and starts with a (``s`` = 2 or 3, possible while ``|A|`` ≤ 3/t): the
      index on (last two characters, first character) of migration customers 0015;
    - or it starts with ab and ends otherwise (``s`` = 2, ``|B|`` ≤ 2/t + 2 - ``|A|``): only the
      name "ab" itself (3 trigrams) when that bound is under 4; longer names have ≥ 4.
    """
    if not norm.isalnum():
        return None  # a character pg_trgm may split words on: keep its own operator
    size = len(trigrams(norm))
    if 2 / SIMILARITY + 2 - size >= 4:
        return None  # a short name: three-character names starting with ab may be similar
    q = Q()
    for i in range(len(norm) - 2):
        q |= Q(name_normalized__contains=norm[i : i + 3])
    if size <= 3 / SIMILARITY:
        q |= Q(kehu_last_two=norm[-2:], kehu_first=norm[0])
    if 2 / SIMILARITY + 2 - size >= 3:
        q |= Q(name_normalized=norm[:2])
    return q


def similar_names(qs, norm: str):
    """``qs`` narrowed to the names similar to ``norm`` (pg_trgm's ``%``) other than itself,
    through :func:`similar_candidates_q` where it applies."""
    from django.contrib.postgres.search import TrigramSimilarity
    from django.db.models.functions import Left, Right

    qs = qs.exclude(name_normalized=norm).order_by()
    candidates = similar_candidates_q(norm)
    if candidates is None:
        return qs.filter(name_normalized__trigram_similar=norm)
    return qs.alias(
        kehu_last_two=Right("name_normalized", 2),
        kehu_first=Left("name_normalized", 1),
        kehu_similarity=TrigramSimilarity("name_normalized", norm),
    ).filter(candidates, kehu_similarity__gte=SIMILARITY)


# Estimated matches over this share of the customers are walked, not gathered (see below).
# The planner cannot see into similarity(): it estimates a third of the candidates.
DENSE_SHARE = 0.02


def _first_similar(qs) -> list:
    """The first MAX_MATCHES rows of :func:`similar_names`. With a LIMIT the planner walks an
    index hoping to meet the matches early — right when the candidates are a large share of
    the table (厦门恒通物流: ~190,000 of 1,000,000; the walk meets 20 within 600 rows, 4 ms,
    where gathering them by bitmap takes 47 ms), wrong when they are fewer and the similar
    names among them rare (泉州顺发建材: 70 ms walked, 10 ms by the candidates' bitmap)."""
    from kehu.core.pagination import estimate_rows, table_rows
    from kehu.core.planner import planner_without

    total = max(table_rows(qs.model, using=qs.db), 1.0)
    if estimate_rows(qs) / total > DENSE_SHARE:
        return list(qs[:MAX_MATCHES])
    with planner_without("seqscan", "indexscan", using=qs.db):
        return list(qs[:MAX_MATCHES])


def _match(customer, reason: str) -> DuplicateMatch:
    return DuplicateMatch(
        id=customer.pk,
        name=customer.name,
        owner_name=customer.owner.display_name if customer.owner_id else None,
        in_pool=customer.owner_id is None,
        status=customer.status,
        status_label=customer.get_status_display(),
        created_at=customer.created_at,
        reason=reason,
    )


def find_duplicates(
    *,
    name: str | None = None,
    phone: str | None = None,
    credit_code: str | None = None,
    exclude_id: int | None = None,
    limit: int = MAX_MATCHES,
) -> list[DuplicateMatch]:
    """Customers matching by normalised name (exact, substring, trigram), phone (customer or any
    contact) or exact credit code. Searches every customer: callers only show public fields."""
    from .models import Contact, Customer
    from .validation import FieldError, clean_phone

    base = Customer.objects.select_related("owner").only(
        "id", "name", "owner__name", "owner__username", "status", "created_at", "owner_id"
    )
    if exclude_id:
        base = base.exclude(pk=exclude_id)
    found: dict[int, DuplicateMatch] = {}

    def add(qs, reason):
        rows = qs if isinstance(qs, list) else qs[:limit]
        for customer in sorted(rows, key=lambda c: c.pk):
            found.setdefault(customer.pk, _match(customer, reason))

    code = (credit_code or "").strip().upper()
    if code:
        add(base.filter(credit_code=code), "credit_code")
    norm = normalize_name(name)
    if norm:
        add(base.filter(name_normalized=norm), "name_exact")
        if len(norm) >= 2:
            # Names containing it, then names similar to it: two queries, each on its index
            # (one OR of both, ordered by id, walked the primary key over a million rows when
            # the name was rare: 1 s for 有限公司). See _contains_q.
            others = base.exclude(name_normalized=norm)
            add(others.filter(_contains_q(norm)).order_by(), "name_similar")
            if connection.vendor == "postgresql" and len(norm) >= 3:
                # A two-character name has three trigrams, two of them padded: a name not
                # containing it shares at most one of them (similarity ≤ 0.2 < 0.3), so the
                # containment above found every similar name already.
                add(_first_similar(similar_names(base, norm)), "name_similar")
            # Existing names contained in the new one ("华东叉车" inside "上海华东叉车"): every
            # substring of two or more characters, looked up on the name index.
            parts = {norm[a:b] for a in range(len(norm)) for b in range(a + 2, len(norm) + 1)} - {
                norm
            }
            if parts:
                # No ORDER BY: PostgreSQL would walk the primary key; the few matches are sorted here.
                add(base.filter(name_normalized__in=sorted(parts)).order_by(), "name_similar")
    if phone:
        try:
            number = clean_phone(phone)
        except FieldError:
            number = re.sub(r"\D", "", phone)
        if number:
            ids = list(
                Contact.objects.filter(Q(mobile=number) | Q(phone=number)).values_list(
                    "customer_id", flat=True
                )[:limit]
            )
            add(base.filter(Q(contact_phone=number) | Q(pk__in=ids)).order_by("id"), "phone")
    return list(found.values())[:limit]
