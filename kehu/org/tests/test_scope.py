"""The one visibility rule (SPEC §1), kehu/org/scope.py, over a small organisation tree.

公司 (leader: boss, who belongs to no department)
├── 销售部 (leader: mgr; members: mgr, staff)
│   ├── 销售一部 (leader: lead1; members: lead1, a, b, gone [inactive])
│   │   └── 一组 (members: g)
│   └── 销售二部 (members: c)
└── 售后部 (members: v)
nodept: no department at all
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.audit.models import Action, ChangeLog
from kehu.audit.services import record_change
from kehu.org.models import DataScope, Department, Role, User
from kehu.org.scope import (
    can_manage_owner,
    descendants_of,
    restrict,
    scope_owner_ids,
    subordinates_of,
    visible_q,
)

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request would load it (no cached scope or permissions)."""
    return User.objects.get(pk=user.pk)


def make_role(scope: str, *, is_admin: bool = False) -> Role:
    role, _ = Role.objects.get_or_create(
        code=f"test_{scope}{'_admin' if is_admin else ''}",
        defaults={
            "name": f"测试{scope}{'管理员' if is_admin else ''}",
            "data_scope": scope,
            "is_admin": is_admin,
        },
    )
    return role


def give(user: User, *scopes: str) -> User:
    user.roles.set([make_role(s) for s in scopes])
    return fresh(user)


def ids(users) -> set[int]:
    return {u.pk for u in users}


@pytest.fixture
def tree():
    def user(username, dept, *, active=True):
        return User.objects.create_user(
            username=username,
            password="x-Secret-123",
            name=username,
            department=dept,
            is_active=active,
        )

    company = Department.objects.create(name="公司")
    sales = Department.objects.create(name="销售部", parent=company)
    sales1 = Department.objects.create(name="销售一部", parent=sales)
    group = Department.objects.create(name="一组", parent=sales1)
    sales2 = Department.objects.create(name="销售二部", parent=sales)
    service = Department.objects.create(name="售后部", parent=company)

    t = SimpleNamespace(
        company=company,
        sales=sales,
        sales1=sales1,
        group=group,
        sales2=sales2,
        service=service,
        boss=user("boss", None),
        mgr=user("mgr", sales),
        staff=user("staff", sales),
        lead1=user("lead1", sales1),
        a=user("a", sales1),
        b=user("b", sales1),
        gone=user("gone", sales1, active=False),
        g=user("g", group),
        c=user("c", sales2),
        v=user("v", service),
        nodept=user("nodept", None),
    )
    company.leader = t.boss
    company.save()
    sales.leader = t.mgr
    sales.save()
    sales1.leader = t.lead1
    sales1.save()
    return t


# --- descendants_of ---------------------------------------------------------------------------


def test_descendants_of_includes_every_level_below(tree):
    assert descendants_of([tree.sales.pk]) == {
        tree.sales.pk,
        tree.sales1.pk,
        tree.group.pk,
        tree.sales2.pk,
    }
    assert descendants_of([tree.sales.pk], include_self=False) == {
        tree.sales1.pk,
        tree.group.pk,
        tree.sales2.pk,
    }
    assert descendants_of([tree.group.pk]) == {tree.group.pk}
    assert descendants_of([]) == set()


# --- subordinates_of --------------------------------------------------------------------------


def test_leader_of_parent_department_has_members_of_all_child_departments(tree):
    assert ids(subordinates_of(tree.mgr)) == ids(
        [tree.staff, tree.lead1, tree.a, tree.b, tree.g, tree.c]
    )


def test_leader_of_child_department_sees_only_that_branch(tree):
    assert ids(subordinates_of(tree.lead1)) == ids([tree.a, tree.b, tree.g])


def test_inactive_users_are_not_subordinates(tree):
    assert tree.gone.pk not in ids(subordinates_of(tree.mgr))
    assert tree.gone.pk not in ids(subordinates_of(tree.lead1))


def test_deactivating_a_user_removes_them_from_subordinates(tree):
    tree.a.is_active = False
    tree.a.save()
    assert tree.a.pk not in ids(subordinates_of(tree.lead1))


def test_user_is_never_their_own_subordinate(tree):
    for leader in (tree.boss, tree.mgr, tree.lead1):
        assert leader.pk not in ids(subordinates_of(leader))


def test_non_leader_has_no_subordinates(tree):
    for user in (tree.a, tree.staff, tree.g, tree.v, tree.nodept):
        assert list(subordinates_of(user)) == []


def test_leader_without_own_department_has_everyone_below(tree):
    # boss belongs to no department but leads the root: every active member below, nobody
    # without a department.
    assert ids(subordinates_of(tree.boss)) == ids(
        [tree.mgr, tree.staff, tree.lead1, tree.a, tree.b, tree.g, tree.c, tree.v]
    )


def test_leading_nested_departments_lists_each_subordinate_once(tree):
    tree.sales1.leader = tree.mgr
    tree.sales1.save()
    subordinate_ids = [u.pk for u in subordinates_of(tree.mgr)]
    assert len(subordinate_ids) == len(set(subordinate_ids))
    assert set(subordinate_ids) == ids([tree.staff, tree.lead1, tree.a, tree.b, tree.g, tree.c])


def test_moving_a_user_out_of_the_branch_ends_the_subordination(tree):
    tree.a.department = tree.service
    tree.a.save()
    assert tree.a.pk not in ids(subordinates_of(tree.lead1))
    assert tree.a.pk not in ids(subordinates_of(tree.mgr))


def test_subordinates_is_a_queryset_that_can_be_filtered(tree):
    assert list(subordinates_of(tree.mgr).filter(username="a")) == [tree.a]
    assert subordinates_of(tree.a).filter(username="a").count() == 0


# --- DataScope.widest ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "widest"),
    [
        ([], DataScope.SELF),
        (["self"], DataScope.SELF),
        (["dept", "self"], DataScope.DEPT),
        (["self", "dept_and_below", "dept"], DataScope.DEPT_AND_BELOW),
        (["self", "all"], DataScope.ALL),
        (["dept_and_below", "all", "dept"], DataScope.ALL),
    ],
)
def test_widest_scope(scopes, widest):
    assert DataScope.widest(scopes) == widest


@given(st.lists(st.sampled_from(list(DataScope))))
def test_widest_is_one_of_the_given_scopes_and_nothing_given_is_wider(scopes):
    order = [DataScope.ALL, DataScope.DEPT_AND_BELOW, DataScope.DEPT, DataScope.SELF]
    result = DataScope.widest(scopes)
    if scopes:
        assert result in scopes
        assert all(order.index(result) <= order.index(s) for s in scopes)
    else:
        assert result == DataScope.SELF


# --- scope_owner_ids -------------------------------------------------------------------------


def test_scope_all_means_everyone(tree):
    assert scope_owner_ids(give(tree.a, "all")) is None


def test_superuser_sees_everyone_without_roles(tree):
    tree.nodept.is_superuser = True
    tree.nodept.save()
    assert scope_owner_ids(fresh(tree.nodept)) is None


def test_scope_dept_and_below_covers_own_department_and_every_descendant(tree):
    expected = ids([tree.mgr, tree.staff, tree.lead1, tree.a, tree.b, tree.gone, tree.g, tree.c])
    assert scope_owner_ids(give(tree.mgr, "dept_and_below")) == expected


def test_scope_dept_and_below_keeps_inactive_owners_visible(tree):
    # The records of someone who left stay visible to the manager (who must hand them over).
    assert tree.gone.pk in scope_owner_ids(give(tree.lead1, "dept_and_below"))


def test_scope_dept_and_below_from_a_child_department_does_not_go_up_or_sideways(tree):
    owners = scope_owner_ids(give(tree.a, "dept_and_below"))
    assert owners == ids([tree.lead1, tree.a, tree.b, tree.gone, tree.g])
    assert tree.mgr.pk not in owners
    assert tree.c.pk not in owners


def test_scope_dept_covers_own_department_only(tree):
    assert scope_owner_ids(give(tree.a, "dept")) == ids([tree.lead1, tree.a, tree.b, tree.gone])
    assert scope_owner_ids(give(tree.g, "dept")) == {tree.g.pk}


def test_scope_self_is_only_the_user(tree):
    assert scope_owner_ids(give(tree.a, "self")) == {tree.a.pk}


def test_user_without_roles_has_scope_self(tree):
    user = give(tree.b)
    assert user.data_scope == DataScope.SELF
    assert scope_owner_ids(user) == {tree.b.pk}


def test_leading_a_department_widens_nothing_when_the_role_says_self(tree):
    assert scope_owner_ids(give(tree.lead1, "self")) == {tree.lead1.pk}


@pytest.mark.parametrize("scope", ["dept", "dept_and_below", "self"])
def test_user_without_department_sees_only_themselves(tree, scope):
    assert scope_owner_ids(give(tree.nodept, scope)) == {tree.nodept.pk}


def test_user_without_department_with_scope_all_sees_everyone(tree):
    assert scope_owner_ids(give(tree.nodept, "all")) is None


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (("self", "dept"), "dept"),
        (("dept", "self"), "dept"),
        (("self", "dept_and_below"), "dept_and_below"),
        (("dept_and_below", "dept"), "dept_and_below"),
        (("self", "dept", "dept_and_below"), "dept_and_below"),
        (("self", "all"), "all"),
        (("all", "dept"), "all"),
    ],
)
def test_widest_of_several_roles_wins(tree, scopes, expected):
    user = give(tree.lead1, *scopes)
    assert user.data_scope == expected
    assert scope_owner_ids(user) == (
        None if expected == "all" else scope_owner_ids(give(tree.lead1, expected))
    )


def test_leader_with_dept_and_below_has_subordinates_in_scope_even_outside_own_department(tree):
    # SPEC §1 subordinates are "in departments the user leads and their descendants"; the
    # subordinates tab intersects them with the visible records, so a leader whose scope is
    # dept_and_below must see them even when they lead a department outside their own.
    tree.service.leader = tree.mgr
    tree.service.save()
    mgr = give(tree.mgr, "dept_and_below")
    assert tree.v.pk in ids(subordinates_of(mgr))
    assert ids(subordinates_of(mgr)) <= scope_owner_ids(mgr)
    boss = give(tree.boss, "dept_and_below")
    assert ids(subordinates_of(boss)) <= scope_owner_ids(boss)


def test_scope_follows_a_role_change(tree):
    role = make_role("self")
    tree.a.roles.set([role])
    assert scope_owner_ids(fresh(tree.a)) == {tree.a.pk}
    role.data_scope = DataScope.DEPT
    role.save()
    assert scope_owner_ids(fresh(tree.a)) == ids([tree.lead1, tree.a, tree.b, tree.gone])


# --- visible_q / restrict on a model with an owner (ChangeLog.actor) -------------------------


@pytest.fixture
def rows(tree):
    """One change-log row per user (its owner is the actor), and one without an actor."""
    made = {}
    for name in ("boss", "mgr", "staff", "lead1", "a", "b", "gone", "g", "c", "v", "nodept"):
        actor = getattr(tree, name)
        made[name] = record_change(
            actor=actor, action=Action.CREATE, object_type="test.thing", object_repr=name
        )
    made["nobody"] = record_change(
        actor=None, action=Action.LOGIN_FAILED, object_type="org.user", object_repr="nobody"
    )
    return made


def visible_names(user, **kwargs) -> set[str]:
    qs = restrict(ChangeLog.objects.all(), user, owner_field="actor", **kwargs)
    return set(qs.values_list("object_repr", flat=True))


def test_self_scope_sees_own_records_only(tree, rows):
    assert visible_names(give(tree.a, "self")) == {"a"}


def test_dept_scope_sees_records_of_department_members(tree, rows):
    assert visible_names(give(tree.a, "dept")) == {"lead1", "a", "b", "gone"}


def test_dept_and_below_scope_sees_records_of_the_whole_branch(tree, rows):
    assert visible_names(give(tree.mgr, "dept_and_below")) == {
        "mgr",
        "staff",
        "lead1",
        "a",
        "b",
        "gone",
        "g",
        "c",
    }


def test_scope_all_sees_every_owned_record_but_no_ownerless_one(tree, rows):
    assert visible_names(give(tree.v, "all")) == set(rows) - {"nobody"}


def test_superuser_sees_every_owned_record(tree, rows):
    tree.boss.is_superuser = True
    tree.boss.save()
    assert visible_names(fresh(tree.boss)) == set(rows) - {"nobody"}


def test_shared_ids_add_records_without_removing_any(tree, rows):
    shared = ChangeLog.objects.filter(pk__in=[rows["v"].pk, rows["c"].pk]).values("pk")
    assert visible_names(give(tree.a, "self"), shared_ids=shared) == {"a", "v", "c"}
    empty = ChangeLog.objects.none().values("pk")
    assert visible_names(give(tree.a, "self"), shared_ids=empty) == {"a"}


def test_shared_ids_never_reveal_an_ownerless_record(tree, rows):
    # An ownerless record belongs to the pool, which has its own (masked) list: a share made
    # while it was private must not bring it back into the private lists.
    shared = ChangeLog.objects.filter(pk=rows["nobody"].pk).values("pk")
    assert visible_names(give(tree.a, "self"), shared_ids=shared) == {"a"}


def test_inactive_user_sees_nothing_whatever_the_scope_or_shares(tree, rows):
    gone = give(tree.gone, "all")
    shared = ChangeLog.objects.filter(pk=rows["v"].pk).values("pk")
    assert visible_names(gone) == set()
    assert visible_names(gone, shared_ids=shared) == set()


def test_anonymous_user_sees_nothing(rows):
    shared = ChangeLog.objects.filter(pk=rows["v"].pk).values("pk")
    assert visible_names(AnonymousUser()) == set()
    assert visible_names(AnonymousUser(), shared_ids=shared) == set()


def test_restrict_is_the_queryset_filtered_by_visible_q(tree, rows):
    user = give(tree.mgr, "dept_and_below")
    q = visible_q(user, owner_field="actor")
    assert list(ChangeLog.objects.filter(q)) == list(
        restrict(ChangeLog.objects.all(), user, owner_field="actor")
    )
    # restrict keeps the caller's own filters
    narrowed = restrict(
        ChangeLog.objects.filter(object_repr__in=["a", "v"]), user, owner_field="actor"
    )
    assert set(narrowed.values_list("object_repr", flat=True)) == {"a"}


def test_visible_q_works_on_another_owner_field(tree):
    # Department.leader as the "owner": a self-scoped user sees the departments they lead.
    lead1 = give(tree.lead1, "self")
    assert list(restrict(Department.objects.all(), lead1, owner_field="leader")) == [tree.sales1]
    mgr = give(tree.mgr, "dept_and_below")
    assert set(restrict(Department.objects.all(), mgr, owner_field="leader")) == {
        tree.sales,
        tree.sales1,
    }


# --- can_manage_owner ------------------------------------------------------------------------


def test_admin_role_manages_every_owner_and_ownerless_records(tree):
    admin = fresh(tree.v)
    admin.roles.set([make_role("self", is_admin=True)])
    admin = fresh(admin)
    assert admin.is_admin
    assert can_manage_owner(admin, tree.a.pk)
    assert can_manage_owner(admin, None)


def test_superuser_manages_everything(tree):
    tree.nodept.is_superuser = True
    tree.nodept.save()
    assert can_manage_owner(fresh(tree.nodept), tree.a.pk)
    assert can_manage_owner(fresh(tree.nodept), None)


def test_salesperson_manages_only_own_records(tree):
    a = give(tree.a, "self")
    assert can_manage_owner(a, tree.a.pk)
    assert not can_manage_owner(a, tree.b.pk)
    assert not can_manage_owner(a, None)


def test_manager_manages_owners_in_scope_only(tree):
    mgr = give(tree.mgr, "dept_and_below")
    for owner in (tree.mgr, tree.a, tree.gone, tree.g, tree.c):
        assert can_manage_owner(mgr, owner.pk)
    for owner in (tree.v, tree.boss, tree.nodept):
        assert not can_manage_owner(mgr, owner.pk)
    assert not can_manage_owner(mgr, None)


def test_dept_scope_manages_own_department_only(tree):
    a = give(tree.a, "dept")
    assert can_manage_owner(a, tree.b.pk)
    assert not can_manage_owner(a, tree.g.pk)


def test_scope_all_without_admin_manages_every_owner_but_not_ownerless(tree):
    finance = give(tree.v, "all")
    assert not finance.is_admin
    assert can_manage_owner(finance, tree.a.pk)
    assert not can_manage_owner(finance, None)


# --- properties over random organisation trees ------------------------------------------------

forests = st.integers(min_value=1, max_value=7).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            # department i's parent is an earlier department or none: always a forest
            "parents": st.tuples(
                *[st.none() | st.integers(0, max(i - 1, 0)) for i in range(n)]
            ).map(lambda ps: [p if i > 0 else None for i, p in enumerate(ps)]),
            "leaders": st.lists(st.none() | st.integers(0, 9), min_size=n, max_size=n),
            "members": st.lists(
                st.tuples(st.none() | st.integers(0, n - 1), st.booleans()), min_size=1, max_size=10
            ),
            "who": st.integers(0, 9),
            "scope": st.sampled_from(["self", "dept", "dept_and_below"]),
        }
    )
)


def _naive_below(parents: list[int | None], roots: set[int]) -> set[int]:
    below = set(roots)
    changed = True
    while changed:
        changed = False
        for i, p in enumerate(parents):
            if p is not None and p in below and i not in below:
                below.add(i)
                changed = True
    return below


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=forests)
def test_subordinates_and_scope_on_random_trees(db, spec):
    with transaction.atomic():
        depts = []
        for i, parent in enumerate(spec["parents"]):
            depts.append(
                Department.objects.create(
                    name=f"d{i}", parent=depts[parent] if parent is not None else None
                )
            )
        users = [
            User.objects.create(
                username=f"u{k}", department=depts[d] if d is not None else None, is_active=active
            )
            for k, (d, active) in enumerate(spec["members"])
        ]
        for i, leader in enumerate(spec["leaders"]):
            if leader is not None and leader < len(users):
                depts[i].leader = users[leader]
                depts[i].save()
        me = users[spec["who"] % len(users)]
        me.roles.set([make_role(spec["scope"])])
        me = fresh(me)

        led = {
            i
            for i, leader in enumerate(spec["leaders"])
            if leader is not None and leader < len(users) and users[leader].pk == me.pk
        }
        below = _naive_below(spec["parents"], led)
        expected = {
            u.pk
            for u, (d, active) in zip(users, spec["members"], strict=True)
            if active and d is not None and d in below and u.pk != me.pk
        }
        subordinates = ids(subordinates_of(me))

        assert me.pk not in subordinates
        assert subordinates == expected
        owners = scope_owner_ids(me)
        assert me.pk in owners
        if spec["scope"] == "self":
            assert owners == {me.pk}
        if spec["scope"] == "dept_and_below":
            assert subordinates <= owners
        transaction.set_rollback(True)


OWNER_SETS = [(), ("a",), ("mgr",), ("a", "v"), ("staff", "c", "g", "nodept"), ("gone", "b")]


@pytest.mark.parametrize("scope", list(DataScope))
@pytest.mark.parametrize("owner_names", OWNER_SETS)
@pytest.mark.parametrize("shared_names", [(), ("v", "c"), ("a", "nobody")])
def test_owners_narrows_to_exactly_the_visible_records_those_users_own(
    tree, rows, scope, owner_names, shared_names
):
    # 我的客户 / 下属客户 pass ``owners``: the answer must be the rule's answer intersected with
    # "owned by one of them" — never more (a share of someone else's record stays out, an
    # out-of-scope owner stays hidden unless shared), never less.
    user = give(tree.mgr, scope)
    shared = [rows[n].pk for n in shared_names]
    owners = [getattr(tree, n).pk for n in owner_names]
    everything = visible_names(user, shared_ids=shared)
    expected = {n for n in everything if n in owner_names}
    assert visible_names(user, shared_ids=shared, owners=owners) == expected
