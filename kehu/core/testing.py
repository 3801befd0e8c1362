"""Generic test classes for a model's pages and API (the NetBox ``ViewTestCases`` lesson).

A model's test module declares what differs — the model, its URL name or API path, who owns
the sample object, who must not see it, who may only read it, how to make one and what valid
input looks like — and inherits the tests that every model must pass::

    from kehu.core.testing import APIViewTestCases, ViewTestCases, customer_for, unique

    class TestContactViews(
        ViewTestCases.ListView, ViewTestCases.AddView, ViewTestCases.EditView,
        ViewTestCases.DeleteView,
    ):
        model = Contact
        url_name = "contact"          # contact_list / contact_add / contact_edit / contact_delete
        owner = "sales1"              # owns the sample object
        outsider = "sales3"           # sees nothing of it: 404
        read_only = "finance1"        # sees it, may not change it: 403
        max_list_queries = 20         # the list page's query budget, whatever the row count

        def make(self, org): ...      # one sample object owned by ``owner``
        def form_data(self, obj): ... # valid POST data for add (next to ``obj``) and edit

    class TestContactAPI(APIViewTestCases.List, APIViewTestCases.Get, ...):
        model = Contact
        api_path = "/api/v1/contacts"
        def make(self, org): ...
        def create_data(self, obj): ...          # valid body (``obj`` gives the parent)
        def invalid_create_data(self, obj): ...  # a body the API must refuse with 400
        def update_data(self, obj): ...          # valid PATCH body

The tests are pytest tests (classes named ``Test…``, plain ``assert``); they need the ``org``
fixture (the demo organisation, :mod:`kehu.org.testing`) from the package's conftest and build
their own clients. Where one assumption does not fit a model, override the one hook (``url``,
``add_url``, ``assert_saved``, ``label``, a status attribute …) rather than the test.

What each class checks:

- ``ViewTestCases.ListView``: anonymous → the login page; the owner's list shows the sample,
  the outsider's does not (or the outsider is refused: ``outsider_list_status``), the read-only
  role sees it (or is refused: ``read_only_view_status``); the page's query count with 15 rows
  is no more than with 3, and within ``max_list_queries``.
- ``AddView`` / ``EditView`` / ``DeleteView``: the owner's POST works and writes one change-log
  row about the object; the outsider gets ``outsider_status`` (404), the read-only role
  ``read_only_status`` (403), anonymous the login page — for GET and POST — and a refused POST
  changes nothing (the row, the model's row count and the change log stay as they were).
- ``APIViewTestCases.List``: anonymous → 401; ``{items, count}`` pages that cover every visible
  row once; the same visibility as the pages; a query count independent of the row count.
- ``Get`` / ``Create`` / ``Update`` / ``Delete``: as the pages, with 401 for anonymous; an
  invalid create body answers 400 with a Chinese ``detail`` and changes nothing.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any, ClassVar

import pytest
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.audit.models import ChangeLog

__all__ = [
    "APIViewTestCases",
    "ViewTestCases",
    "assert_query_guard",
    "customer_for",
    "unique",
    "unique_mobile",
]

LOGIN_URL = "/accounts/login/"
CJK = re.compile(r"[\u4e00-\u9fff]")
FEW, MANY = 3, 15  # rows for the query-count guards (listed 50 a page: all on page one)

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """``prefix`` with a number no other call in this test run returns: names that appear in
    exactly one place of a list page."""
    return f"{prefix}{next(_serial):05d}"


def unique_mobile() -> str:
    """A valid mainland mobile number no other call in this test run returns."""
    return f"135{next(_serial):08d}"


def customer_for(owner, **data):
    """A customer owned (and created) by the user ``owner``, through the service: the parent of
    contacts, 商机 and follow-ups. Similar names are confirmed, as a user would."""
    from kehu.customers.services import customer_create

    payload = {
        "name": unique("通用测试客户") + "有限公司",
        "contact_name": "首要联系人",
        "contact_phone": unique_mobile(),
        **data,
    }
    return customer_create(actor=owner, data=payload, confirm_duplicates=True)


def assert_query_guard(few: list[dict], many: list[dict], budget: int) -> None:
    """The list's queries with ``MANY`` rows are no more than with ``FEW`` (no query per row),
    and within ``budget``; a failure lists the SQL of the larger request."""

    def listing(queries: list[dict]) -> str:
        return "\n".join(f"  {q['sql'][:300]}" for q in queries)

    assert len(many) <= len(few), (
        f"{FEW} rows: {len(few)} queries, {MANY} rows: {len(many)} queries:\n{listing(many)}"
    )
    assert len(few) <= budget, (
        f"{len(few)} queries, over the budget max_list_queries = {budget}:\n{listing(few)}"
    )


class _ModelCase:
    """What every generic test class shares: the declarations and the bookkeeping helpers."""

    model: ClassVar[type[models.Model]]
    owner: ClassVar[str] = "sales1"
    outsider: ClassVar[str] = "sales3"
    read_only: ClassVar[str] = "finance1"
    # What the outsider's request for the sample (edit, delete, get) answers: 404 where the
    # records are scoped (the object is not there for them), 403 for settings (no scope).
    outsider_status: ClassVar[int] = 404
    # What the read-only role's write answers.
    read_only_status: ClassVar[int] = 403
    # The read-only role's list and get: 200 (it sees the sample) or 403 (no view permission).
    read_only_view_status: ClassVar[int] = 200
    # The outsider's list: 200 (without the sample) or 403 (settings pages).
    outsider_list_status: ClassVar[int] = 200
    max_list_queries: ClassVar[int] = 20

    org: dict[str, Any]

    @pytest.fixture(autouse=True)
    def _kehu_org(self, org) -> None:
        self.org = org

    # --- hooks ---------------------------------------------------------------------------------

    def make(self, org) -> models.Model:
        """One sample object owned by ``self.owner``."""
        raise NotImplementedError(f"{type(self).__name__} must define make(org)")

    def make_many(self, org, n: int) -> list[models.Model]:
        return [self.make(org) for _ in range(n)]

    def label(self, obj: models.Model) -> str:
        """The text that identifies ``obj`` in a list page."""
        return str(obj)

    def assert_saved(self, obj: models.Model, data: dict[str, Any]) -> None:
        """``obj`` (read again) holds ``data``: each text field and each foreign key named in it.
        Other values (dates, numbers, booleans) are parsed differently per model: override."""
        for field in obj._meta.concrete_fields:
            key = next((k for k in (field.name, field.attname) if k in data), None)
            if key is None:
                continue
            value = data[key]
            if field.is_relation:
                stored = getattr(obj, field.attname)
                assert str(stored or "") == str(value or ""), (field.name, stored, value)
            elif isinstance(field, models.CharField | models.TextField) and isinstance(value, str):
                stored = getattr(obj, field.attname)
                assert stored == value, (field.name, stored, value)

    # --- helpers -------------------------------------------------------------------------------

    @pytest.fixture
    def sample(self, org) -> models.Model:
        return self.make(org)

    @property
    def object_type(self) -> str:
        return self.model._meta.label_lower

    def row(self, obj: models.Model) -> dict[str, Any] | None:
        """The stored row of ``obj`` (``None`` once deleted)."""
        return self.model._default_manager.filter(pk=obj.pk).values().first()

    def state(self, obj: models.Model | None = None) -> tuple:
        """What a refused request must leave as it was."""
        return (
            self.row(obj) if obj is not None else None,
            self.model._default_manager.count(),
            ChangeLog.objects.count(),
        )

    def last_log_id(self) -> int:
        return ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def assert_logged(self, since: int, obj_pk: int, action: str, username: str) -> None:
        """Exactly one change-log row about the object since ``since``, with the action and
        the actor."""
        rows = list(
            ChangeLog.objects.filter(id__gt=since, object_type=self.object_type, object_id=obj_pk)
        )
        assert len(rows) == 1, [(r.action, r.object_repr) for r in rows]
        assert (rows[0].action, rows[0].actor_id) == (action, self.org[username].pk)

    def new_object(self, before: set[int]) -> models.Model:
        created = list(self.model._default_manager.exclude(pk__in=before))
        assert len(created) == 1, created
        return created[0]

    def pks(self) -> set[int]:
        return set(self.model._default_manager.values_list("pk", flat=True))


# --- pages ------------------------------------------------------------------------------------


class _PageCase(_ModelCase):
    url_name: ClassVar[str]

    def url(self, action: str, obj: models.Model | None = None) -> str:
        """``<url_name>_<action>`` (list/add without the object, edit/delete with it)."""
        args = [obj.pk] if obj is not None else []
        return reverse(f"{self.url_name}_{action}", args=args)

    def client(self, username: str | None) -> Client:
        """A web client signed in as the demo user (``None``: anonymous)."""
        client = Client()
        if username is not None:
            client.force_login(self.org[username])
        return client

    def assert_login_redirect(self, response) -> None:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(LOGIN_URL), response["Location"]

    def html(self, response) -> str:
        return response.content.decode()


class ViewTestCases:
    """Mixins for a model's pages; combine the ones the model has."""

    class ListView(_PageCase):
        def list_url(self) -> str:
            return self.url("list")

        def test_list_sends_anonymous_to_login(self, sample):
            self.assert_login_redirect(self.client(None).get(self.list_url()))

        def test_list_shows_the_owner_their_object(self, sample):
            response = self.client(self.owner).get(self.list_url())
            assert response.status_code == 200
            assert self.label(sample) in self.html(response)

        def test_list_hides_the_object_from_the_outsider(self, sample):
            response = self.client(self.outsider).get(self.list_url())
            assert response.status_code == self.outsider_list_status
            assert self.label(sample) not in self.html(response)

        def test_list_for_the_read_only_role(self, sample):
            response = self.client(self.read_only).get(self.list_url())
            assert response.status_code == self.read_only_view_status
            if self.read_only_view_status == 200:
                assert self.label(sample) in self.html(response)
            else:
                assert self.label(sample) not in self.html(response)

        def test_list_query_count_does_not_grow_with_rows(self, org):
            client = self.client(self.owner)
            objects = self.make_many(org, FEW)

            def render() -> list[dict]:
                with CaptureQueriesContext(connection) as queries:
                    # 50 a page: every row made here is listed, next to any the org has.
                    response = client.get(self.list_url(), {"per_page": 50})
                assert response.status_code == 200
                page = self.html(response)
                missing = [self.label(o) for o in objects if self.label(o) not in page]
                assert not missing, f"rows not listed: {missing}"
                return queries.captured_queries

            render()  # warm what a first request fills (content types, the session's user)
            few = render()
            objects += self.make_many(org, MANY - FEW)
            many = render()
            assert_query_guard(few, many, self.max_list_queries)

    class AddView(_PageCase):
        # What the owner's successful add answers: 302 to the list (204 for an HTMX-only form).
        add_success_status: ClassVar[int] = 302

        def form_data(self, obj: models.Model) -> dict[str, Any]:
            """Valid POST data: a new object next to ``obj`` (its customer…), or ``obj`` edited."""
            raise NotImplementedError(f"{type(self).__name__} must define form_data(obj)")

        def add_data(self, obj: models.Model) -> dict[str, Any]:
            return self.form_data(obj)

        def add_url(self, obj: models.Model) -> str:
            return self.url("add")

        def test_add_form_opens_for_the_owner(self, sample):
            response = self.client(self.owner).get(self.add_url(sample))
            assert response.status_code == 200

        def test_owner_adds(self, sample):
            data = self.add_data(sample)
            before, since = self.pks(), self.last_log_id()
            response = self.client(self.owner).post(self.add_url(sample), data)
            assert response.status_code == self.add_success_status, self.html(response)[:2000]
            created = self.new_object(before)
            self.assert_saved(created, data)
            self.assert_logged(since, created.pk, "create", self.owner)

        def test_add_is_refused_to_the_read_only_role(self, sample):
            client = self.client(self.read_only)
            assert client.get(self.add_url(sample)).status_code == self.read_only_status
            before = self.state()
            response = client.post(self.add_url(sample), self.add_data(sample))
            assert response.status_code == self.read_only_status
            assert self.state() == before

        def test_add_sends_anonymous_to_login(self, sample):
            client, data = self.client(None), self.add_data(sample)
            before = self.state()
            self.assert_login_redirect(client.post(self.add_url(sample), data))
            assert self.state() == before

    class EditView(_PageCase):
        edit_success_status: ClassVar[int] = 302

        def form_data(self, obj: models.Model) -> dict[str, Any]:
            raise NotImplementedError(f"{type(self).__name__} must define form_data(obj)")

        def edit_data(self, obj: models.Model) -> dict[str, Any]:
            return self.form_data(obj)

        def test_owner_edits(self, sample):
            client = self.client(self.owner)
            assert client.get(self.url("edit", sample)).status_code == 200
            data = self.edit_data(sample)
            since = self.last_log_id()
            response = client.post(self.url("edit", sample), data)
            assert response.status_code == self.edit_success_status, self.html(response)[:2000]
            self.assert_saved(self.model._default_manager.get(pk=sample.pk), data)
            self.assert_logged(since, sample.pk, "update", self.owner)

        @pytest.mark.parametrize("who", ["outsider", "read_only"])
        def test_edit_is_refused(self, sample, who):
            expected = self.outsider_status if who == "outsider" else self.read_only_status
            client = self.client(getattr(self, who))
            assert client.get(self.url("edit", sample)).status_code == expected
            data, before = self.edit_data(sample), self.state(sample)
            assert client.post(self.url("edit", sample), data).status_code == expected
            assert self.state(sample) == before

        def test_edit_sends_anonymous_to_login(self, sample):
            client, data = self.client(None), self.edit_data(sample)
            before = self.state(sample)
            self.assert_login_redirect(client.post(self.url("edit", sample), data))
            assert self.state(sample) == before

    class DeleteView(_PageCase):
        delete_success_status: ClassVar[int] = 302

        def test_owner_deletes(self, sample):
            client = self.client(self.owner)
            assert client.get(self.url("delete", sample)).status_code == 200
            since = self.last_log_id()
            response = client.post(self.url("delete", sample))
            assert response.status_code == self.delete_success_status, self.html(response)[:2000]
            assert self.row(sample) is None
            self.assert_logged(since, sample.pk, "delete", self.owner)

        @pytest.mark.parametrize("who", ["outsider", "read_only"])
        def test_delete_is_refused(self, sample, who):
            expected = self.outsider_status if who == "outsider" else self.read_only_status
            client = self.client(getattr(self, who))
            assert client.get(self.url("delete", sample)).status_code == expected
            before = self.state(sample)
            assert client.post(self.url("delete", sample)).status_code == expected
            assert self.state(sample) == before

        def test_delete_sends_anonymous_to_login(self, sample):
            client, before = self.client(None), self.state(sample)
            self.assert_login_redirect(client.post(self.url("delete", sample)))
            assert self.state(sample) == before


# --- API --------------------------------------------------------------------------------------


class _APICase(_ModelCase):
    api_path: ClassVar[str]

    def detail_path(self, obj: models.Model) -> str:
        return f"{self.api_path}/{obj.pk}"

    def api(self, username: str | None) -> Client:
        """A client sending a fresh Bearer token of the demo user (``None``: no token)."""
        if username is None:
            return Client()
        from kehu.org.auth import issue_token

        token = issue_token(self.org[username])
        return Client(headers={"Authorization": f"Bearer {token}"})

    def send(self, client: Client, method: str, path: str, body: Any = None):
        if body is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, json.dumps(body), content_type="application/json")

    def all_items(self, client: Client, page_size: int = 200) -> tuple[list[dict], int]:
        """Every item of the list, page by page, and the count the first page announced."""
        items: list[dict] = []
        page, count = 1, None
        while True:
            response = client.get(self.api_path, {"page": page, "page_size": page_size})
            assert response.status_code == 200, response.content
            body = response.json()
            assert set(body) == {"items", "count", "count_exact", "next_cursor"}, body.keys()
            assert body["count_exact"] is True  # a test's few rows are under the count cap
            count = body["count"] if count is None else count
            assert body["count"] == count
            items += body["items"]
            if len(body["items"]) < page_size:
                return items, count
            page += 1

    def assert_refused(self, response, status: int) -> None:
        assert response.status_code == status, response.content
        assert CJK.search(response.json()["detail"]), response.json()


class APIViewTestCases:
    """Mixins for a model's /api/v1/ routes; combine the ones the model has."""

    class List(_APICase):
        def test_api_list_needs_a_token(self, sample):
            assert self.api(None).get(self.api_path).status_code == 401

        def test_api_list_pages_cover_every_visible_row_once(self, org, sample):
            others = self.make_many(org, 2)
            client = self.api(self.owner)
            first = client.get(self.api_path, {"page": 1, "page_size": 2}).json()
            assert len(first["items"]) == 2 and first["count"] >= 3
            items, count = self.all_items(client, page_size=2)
            ids = [item["id"] for item in items]
            assert len(ids) == len(set(ids)) == count
            assert {o.pk for o in [sample, *others]} <= set(ids)

        def test_api_list_cursor_walks_every_row_once(self, org, sample):
            """A list whose answers carry ``next_cursor`` is walked with it in the order of
            its pages (SPEC §13); a list without one pages with ``page`` only."""
            self.make_many(org, 2)
            client = self.api(self.owner)
            by_page = [item["id"] for item in self.all_items(client, page_size=2)[0]]
            walked, cursor = [], None
            for _ in range(len(by_page) + 2):
                params = {"page_size": 2, **({"cursor": cursor} if cursor else {})}
                body = client.get(self.api_path, params).json()
                walked += [item["id"] for item in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            walkable = len(walked) > 2
            assert walked == (by_page if walkable else by_page[:2])

        def test_api_list_hides_the_object_from_the_outsider(self, sample):
            client = self.api(self.outsider)
            if self.outsider_list_status != 200:
                self.assert_refused(client.get(self.api_path), self.outsider_list_status)
                return
            items, count = self.all_items(client)
            assert sample.pk not in {item["id"] for item in items} and count == len(items)

        def test_api_list_for_the_read_only_role(self, sample):
            client = self.api(self.read_only)
            if self.read_only_view_status != 200:
                self.assert_refused(client.get(self.api_path), self.read_only_view_status)
                return
            items, _count = self.all_items(client)
            assert sample.pk in {item["id"] for item in items}

        def test_api_list_query_count_does_not_grow_with_rows(self, org):
            client = self.api(self.owner)
            objects = self.make_many(org, FEW)

            def fetch() -> list[dict]:
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(self.api_path, {"page_size": 50})
                assert response.status_code == 200
                listed = {item["id"] for item in response.json()["items"]}
                assert {o.pk for o in objects} <= listed
                return queries.captured_queries

            fetch()
            few = fetch()
            objects += self.make_many(org, MANY - FEW)
            many = fetch()
            assert_query_guard(few, many, self.max_list_queries)

    class Get(_APICase):
        def test_api_get_needs_a_token(self, sample):
            assert self.api(None).get(self.detail_path(sample)).status_code == 401

        def test_api_get_by_the_owner(self, sample):
            response = self.api(self.owner).get(self.detail_path(sample))
            assert response.status_code == 200, response.content
            assert response.json()["id"] == sample.pk

        def test_api_get_by_the_outsider(self, sample):
            response = self.api(self.outsider).get(self.detail_path(sample))
            self.assert_refused(response, self.outsider_status)

        def test_api_get_by_the_read_only_role(self, sample):
            response = self.api(self.read_only).get(self.detail_path(sample))
            if self.read_only_view_status == 200:
                assert response.status_code == 200 and response.json()["id"] == sample.pk
            else:
                self.assert_refused(response, self.read_only_view_status)

        def test_api_get_of_a_missing_id(self, sample):
            response = self.api(self.owner).get(f"{self.api_path}/{sample.pk + 100000}")
            self.assert_refused(response, 404)

    class Create(_APICase):
        def create_data(self, obj: models.Model) -> dict[str, Any]:
            """A valid body: a new object next to ``obj`` (its customer…)."""
            raise NotImplementedError(f"{type(self).__name__} must define create_data(obj)")

        def invalid_create_data(self, obj: models.Model) -> dict[str, Any]:
            """A body the API must refuse (400) — a required field empty, a bad value."""
            raise NotImplementedError(f"{type(self).__name__} must define invalid_create_data")

        # The field the invalid body's error names (``None``: do not check).
        invalid_field: ClassVar[str | None] = None

        def test_api_create_by_the_owner(self, sample):
            data = self.create_data(sample)
            before, since = self.pks(), self.last_log_id()
            response = self.send(self.api(self.owner), "post", self.api_path, data)
            assert response.status_code == 201, response.content
            created = self.new_object(before)
            assert response.json()["id"] == created.pk
            self.assert_saved(created, data)
            self.assert_logged(since, created.pk, "create", self.owner)

        def test_api_create_refuses_an_invalid_body_in_chinese(self, sample):
            client, body = self.api(self.owner), self.invalid_create_data(sample)
            before = self.state()
            response = self.send(client, "post", self.api_path, body)
            self.assert_refused(response, 400)
            if self.invalid_field is not None:
                assert self.invalid_field in response.json()["errors"], response.json()
            assert self.state() == before

        def test_api_create_is_refused_to_the_read_only_role(self, sample):
            client, body = self.api(self.read_only), self.create_data(sample)
            before = self.state()
            response = self.send(client, "post", self.api_path, body)
            self.assert_refused(response, self.read_only_status)
            assert self.state() == before

        def test_api_create_needs_a_token(self, sample):
            client, body = self.api(None), self.create_data(sample)
            before = self.state()
            response = self.send(client, "post", self.api_path, body)
            assert response.status_code == 401
            assert self.state() == before

    class Update(_APICase):
        def update_data(self, obj: models.Model) -> dict[str, Any]:
            """A valid PATCH body that changes ``obj``."""
            raise NotImplementedError(f"{type(self).__name__} must define update_data(obj)")

        def test_api_update_by_the_owner(self, sample):
            data = self.update_data(sample)
            since = self.last_log_id()
            response = self.send(self.api(self.owner), "patch", self.detail_path(sample), data)
            assert response.status_code == 200, response.content
            assert response.json()["id"] == sample.pk
            self.assert_saved(self.model._default_manager.get(pk=sample.pk), data)
            self.assert_logged(since, sample.pk, "update", self.owner)

        @pytest.mark.parametrize("who", ["outsider", "read_only"])
        def test_api_update_is_refused(self, sample, who):
            expected = self.outsider_status if who == "outsider" else self.read_only_status
            client, data = self.api(getattr(self, who)), self.update_data(sample)
            before = self.state(sample)
            response = self.send(client, "patch", self.detail_path(sample), data)
            self.assert_refused(response, expected)
            assert self.state(sample) == before

        def test_api_update_needs_a_token(self, sample):
            client, data = self.api(None), self.update_data(sample)
            before = self.state(sample)
            response = self.send(client, "patch", self.detail_path(sample), data)
            assert response.status_code == 401
            assert self.state(sample) == before

    class Delete(_APICase):
        def test_api_delete_by_the_owner(self, sample):
            since = self.last_log_id()
            response = self.api(self.owner).delete(self.detail_path(sample))
            assert response.status_code == 204, response.content
            assert self.row(sample) is None
            self.assert_logged(since, sample.pk, "delete", self.owner)

        @pytest.mark.parametrize("who", ["outsider", "read_only"])
        def test_api_delete_is_refused(self, sample, who):
            expected = self.outsider_status if who == "outsider" else self.read_only_status
            client = self.api(getattr(self, who))
            before = self.state(sample)
            response = client.delete(self.detail_path(sample))
            self.assert_refused(response, expected)
            assert self.state(sample) == before

        def test_api_delete_needs_a_token(self, sample):
            client, before = self.api(None), self.state(sample)
            assert client.delete(self.detail_path(sample)).status_code == 401
            assert self.state(sample) == before


def restore_reference_data() -> None:
    """The reference data the migrations load — the 省/市/区 table and the default dictionaries —
    put back when a transactional test's flush removed them (the migrations' own code); a cheap
    no-op otherwise."""
    import importlib

    from django.apps import apps

    from kehu.basics.models import DictEntry, Region
    from kehu.basics.regions import load_regions

    if not Region.objects.exists():
        load_regions()
    if not DictEntry.objects.exists():
        importlib.import_module("kehu.basics.migrations.0003_seed_dictionaries").seed(apps, None)
