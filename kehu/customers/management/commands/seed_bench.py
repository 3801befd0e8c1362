"""A large, realistic data set for the benchmarks of SPEC §12.1 (see ``bench/``).

    python manage.py seed_bench --customers 100000 [--contracts N] [--payments N] [--users 200]
        [--departments 20] [--contacts-per-customer 2] [--seed 1]

Everything is generated in Python and written in bulk: PostgreSQL ``COPY`` when the database is
PostgreSQL, ``bulk_create`` in batches elsewhere (SQLite). No service calls and no per-row
queries, so the data is made consistent by construction: ``name_normalized`` from
:func:`kehu.customers.dedupe.normalize_name`, a primary contact mirroring 联系人/联系电话, pool
customers (~20 %) with a previous owner.

Receivables come from documents, as in the application: ``--contracts`` 合同 (default: as many as
customers) on ~30 % of the customers, 97.8 % of them 审批通过, 2 % 未申请 and 0.2 % 待审批 (a
waiting queue like a real one: every page's 待我审批 badge reads it), and ``--payments`` 回款
(default: as many as customers) on the approved contracts, never more than a contract's amount
in total, 99.8 % approved and 0.2 % 待审批. Each customer's ``receivable_<kind>`` is its approved
contracts minus its approved payments of that kind and its status is 已成交 exactly when it has
an approved contract — what the ledger would have posted, so ``manage.py reconcile_receivables``
finds no drift. ``receivable_total`` is a generated column (the database adds the kinds). Bench
numbers are ``HTB``/``HKB`` + the row id (zero-padded), which the live format (``HT`` + 14 digits
of time + 4 random digits) can never produce.

The demo organisation is created first when missing; the bench departments (a tree under 销售部)
and users (``bmgr01``…, ``bsales001``…, password ``demo1234``) are reused on a second run, and
customers are appended.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import FieldDoesNotExist
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kehu.basics.models import DictEntry, DictKind, Region
from kehu.customers.dedupe import normalize_name
from kehu.customers.demo import (
    BANKS,
    CITIES,
    GIVEN,
    PRODUCTS,
    SURNAMES,
    TRADES,
    WORDS,
    make_mobile,
)
from kehu.customers.models import Contact, Customer, CustomerShare, CustomerStatus, Gender
from kehu.customers.validation import USCC_CHARSET, uscc_check_digit
from kehu.org.models import Department, Role, User
from kehu.sales.models import Contract, Payment

CHUNK = 10_000  # customers generated (and written) per round
REGION_NAMES = ["华东大区", "华南大区", "华北大区", "华中大区", "西南大区", "西北大区", "东北大区"]
CN_NUMBERS = "一二三四五六七八九十"
MORE_CITIES = ["南京", "合肥", "长沙", "郑州", "西安", "重庆", "昆明", "南昌", "石家庄", "沈阳"]
AREA_CODES = {
    "厦门": "0592",
    "福州": "0591",
    "泉州": "0595",
    "漳州": "0596",
    "莆田": "0594",
    "宁德": "0593",
    "上海": "021",
    "杭州": "0571",
    "宁波": "0574",
    "苏州": "0512",
    "无锡": "0510",
    "广州": "020",
    "深圳": "0755",
    "东莞": "0769",
    "佛山": "0757",
    "青岛": "0532",
    "济南": "0531",
    "天津": "022",
    "成都": "028",
    "武汉": "027",
    "南京": "025",
    "合肥": "0551",
    "长沙": "0731",
    "郑州": "0371",
    "西安": "029",
    "重庆": "023",
    "昆明": "0871",
    "南昌": "0791",
    "石家庄": "0311",
    "沈阳": "024",
}
SEVEN_DIGIT_AREAS = {"0592", "0593", "0594", "0596"}  # the others have 8-digit local numbers
# Characters of made-up brand names (字号), combined in pairs: ~1,600 brands besides WORDS.
BRAND_CHARS = "恒通华达鑫源盛泰永丰宏远金桥瑞祥新锐众力嘉禾宝龙顺发天成海联明辉捷运安隆兴富凯"
NAME_SUFFIXES = ["有限公司"] * 6 + [
    "有限责任公司",
    "股份有限公司",
    "厂",
    "贸易商行",
    "集团有限公司",
]
# Trades of a forklift dealer's customers beyond the demo's, rarer ones last (Zipf-weighted).
MORE_TRADES = ["贸易", "科技", "制造", "电器", "汽配", "包装", "印刷", "家具", "叉车", "起重"]
# Latin brand parts (字号 like "ABC物流"), ~3 % of the names: mixed Latin letters in searches.
LATIN_BRANDS = ["ABC", "JK", "Hi-Tech", "TCL", "SKF", "Jungheinrich", "Linde", "KION", "HL"]
# Surnames by their real frequency (王 7.1 %, 李 7.0 %, 张 6.7 %, … 高 1.3 %: the order of SURNAMES).
SURNAME_WEIGHTS = [71, 70, 67, 54, 45, 31, 22, 21, 20, 19, 18, 15, 14, 14, 14, 14, 13, 12, 12, 12]
POSITIONS = ["总经理", "采购经理", "设备主管", "仓库主管", "财务", "厂长", "行政", "车队队长"]
MAIL_DOMAINS = ["163.com", "qq.com", "126.com", "sina.com", "foxmail.com"]
TWO_YEARS = 730
# Documents: the share of customers that have contracts; contract kinds (weight, yuan range).
HOLDER_SHARE = 0.3
CONTRACT_KINDS = {
    "vehicle": (0.35, 20_000, 600_000),
    "parts": (0.35, 200, 30_000),
    "used_vehicle": (0.1, 10_000, 200_000),
    "lease": (0.2, 2_000, 80_000),
}
KIND_LABELS = {
    "vehicle": "整车销售",
    "parts": "配件销售",
    "used_vehicle": "二手车销售",
    "lease": "租赁",
}
WARRANTY_KINDS = ("vehicle", "used_vehicle")
# The columns written, in the order of the generated tuples (the others take their defaults).
CONTRACT_FIELDS = [
    "id",
    "number",
    "customer_id",
    "approval_status",
    "approval_step",
    "submitted_by_id",
    "submitted_at",
    "approved_at",
    "voided_at",
    "void_reason",
    "remark",
    "creator_id",
    "created_at",
    "updated_at",
    "name",
    "kind",
    "amount",
    "signed_at",
    "warranty_end_at",
    "signer_id",
    "quote_id",
]
PAYMENT_FIELDS = [
    *CONTRACT_FIELDS[:14],
    "contract_id",
    "plan_id",
    "kind",
    "amount",
    "paid_at",
    "method_id",
]
USCC_SPACE = 31**9
USCC_STEP = 11_400_714_819_323  # coprime with 31: n → n·step mod 31⁹ is a bijection (unique codes)


def _uscc(n: int, region: str) -> str:
    """A valid, unique 统一社会信用代码 for the n-th generated customer."""
    value = (n * USCC_STEP) % USCC_SPACE
    chars = []
    for _ in range(9):
        value, digit = divmod(value, 31)
        chars.append(USCC_CHARSET[digit])
    body = "91" + region + "".join(chars)
    return body + uscc_check_digit(body)


def _zipf_cum(n: int) -> list[float]:
    """Cumulative weights 1/rank for ``n`` choices, in their order (for ``random.choices``)."""
    return list(itertools.accumulate(1 / rank for rank in range(1, n + 1)))


@contextlib.contextmanager
def _keep_timestamps(*models):
    """``bulk_create`` would overwrite ``auto_now(_add)`` fields with now; keep ours instead."""
    saved = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                saved.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


class Writer:
    """Rows (tuples of attnames' values) into a table: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, *, use_copy: bool, batch_size: int):
        self.use_copy = use_copy
        self.batch_size = batch_size
        self.counts: dict[str, int] = {}

    def write(self, model, fields: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        if self.use_copy:
            qn = connection.ops.quote_name
            columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
            sql = f"COPY {qn(table)} ({columns}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        with _keep_timestamps(model):
            model.objects.bulk_create(objs, batch_size=self.batch_size)


class Command(BaseCommand):
    help = "Generate a large, realistic data set for the benchmarks (SPEC §12.1, bench/)"

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument(
            "--contracts", type=int, default=None, help="合同 (default: --customers)"
        )
        parser.add_argument(
            "--payments", type=int, default=None, help="回款 (default: --customers)"
        )
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--departments", type=int, default=20)
        parser.add_argument("--contacts-per-customer", type=int, default=2)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="bulk_create batch size (non-COPY path)"
        )
        parser.add_argument(
            "--no-copy", action="store_true", help="use bulk_create even on PostgreSQL"
        )

    # ------------------------------------------------------------------ entry point
    def handle(self, *args, **opts):
        n = opts["customers"]
        if n < 0 or opts["users"] < 1 or opts["departments"] < 1:
            raise CommandError("--customers ≥ 0, --users ≥ 1 and --departments ≥ 1 please")
        contracts = n if opts["contracts"] is None else opts["contracts"]
        payments = n if opts["payments"] is None else opts["payments"]
        if contracts < 0 or payments < 0:
            raise CommandError("--contracts ≥ 0 and --payments ≥ 0 please")
        if n == 0 and contracts:
            raise CommandError("contracts belong to the customers of this run: --customers ≥ 1")
        if payments and not contracts:
            raise CommandError("payments need contracts: --contracts ≥ 1")
        started = time.perf_counter()
        self.started = started
        self.rng = random.Random(opts["seed"])
        use_copy = connection.vendor == "postgresql" and not opts["no_copy"]
        writer = Writer(use_copy=use_copy, batch_size=opts["batch_size"])
        self.log(
            f"seed_bench: {n:,} customers, {contracts:,} contracts, {payments:,} payments, "
            f"{opts['users']} users, {opts['departments']} departments on {connection.vendor} "
            f"({'COPY' if use_copy else 'bulk_create'})"
        )
        with transaction.atomic():
            from kehu.org import demo as org_demo

            demo_users = org_demo.seed()
            departments = self.make_departments(opts["departments"])
            managers, sales = self.make_users(departments, opts["users"])
            self.log(
                f"organisation: {len(departments)} departments, {len(managers) + len(sales)} users"
            )
            self.prepare_lookups(demo_users, managers, sales)
            self.make_customers(writer, n, opts["contacts_per_customer"], contracts, payments)
            self.reset_sequences()
        self.analyze()
        counts = ", ".join(f"{table} +{count:,}" for table, count in writer.counts.items())
        self.log(f"rows: {counts}")
        self.stdout.write(
            self.style.SUCCESS(f"seed_bench done in {time.perf_counter() - started:.1f}s")
        )

    def log(self, message: str) -> None:
        self.stdout.write(f"[{time.perf_counter() - self.started:6.1f}s] {message}")
        self.stdout.flush()

    # ------------------------------------------------------------------ organisation
    def make_departments(self, count: int) -> list[Department]:
        """``count`` departments under 销售部: ~1/5 regions (大区), the rest teams below them."""
        sales = Department.objects.get(name="销售部", parent=None)
        n_regions = max(1, count // 5)
        regions = []
        for i in range(n_regions):
            name = REGION_NAMES[i] if i < len(REGION_NAMES) else f"第{i + 1}大区"
            regions.append(
                Department.objects.get_or_create(
                    name=name, parent=sales, defaults={"sort": 10 + i}
                )[0]
            )
        teams = []
        for i in range(count - n_regions):
            region = regions[i % n_regions]
            k = i // n_regions
            number = CN_NUMBERS[k] if k < len(CN_NUMBERS) else str(k + 1)
            teams.append(
                Department.objects.get_or_create(
                    name=f"{region.name[:2]}{number}组", parent=region, defaults={"sort": k + 1}
                )[0]
            )
        return regions + teams

    def make_users(self, departments, count: int) -> tuple[list[User], list[User]]:
        """One manager (销售经理, leader) per department as far as users go; salespeople below."""
        rng = self.rng
        n_managers = min(len(departments), max(1, count // 10))
        parents = {d.parent_id for d in departments}
        leaves = [d for d in departments if d.pk not in parents] or departments
        plan = []  # (username, department, role code)
        for i in range(n_managers):
            plan.append((f"bmgr{i + 1:02d}", departments[i], "sales_manager"))
        for i in range(count - n_managers):
            plan.append((f"bsales{i + 1:03d}", leaves[i % len(leaves)], "salesperson"))
        existing = set(
            User.objects.filter(username__in=[p[0] for p in plan]).values_list(
                "username", flat=True
            )
        )
        password = make_password("demo1234")
        now = timezone.now()
        User.objects.bulk_create(
            [
                User(
                    username=username,
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    department=department,
                    password=password,
                    email=f"{username}@bench.kehu.cn",
                    mobile=make_mobile(rng),
                    date_joined=now,
                )
                for username, department, _ in plan
                if username not in existing
            ],
            batch_size=1000,
        )
        by_name = {u.username: u for u in User.objects.filter(username__in=[p[0] for p in plan])}
        roles = {r.code: r for r in Role.objects.filter(code__in=["sales_manager", "salesperson"])}
        Through = User.roles.through
        Through.objects.bulk_create(
            [Through(user_id=by_name[u].pk, role_id=roles[code].pk) for u, _, code in plan],
            ignore_conflicts=True,
        )
        for i in range(n_managers):
            departments[i].leader = by_name[plan[i][0]]
        Department.objects.bulk_update(departments[:n_managers], ["leader"])
        managers = [by_name[p[0]] for p in plan[:n_managers]]
        sales = [by_name[p[0]] for p in plan[n_managers:]]
        return managers, sales

    def prepare_lookups(self, demo_users, managers, sales) -> None:
        rng = self.rng
        # Owners with a skewed (log-normal) share of the customers, as in a real sales team.
        owners = [(u.pk, rng.lognormvariate(0, 0.8)) for u in sales]
        owners += [(u.pk, 0.3 * rng.lognormvariate(0, 0.8)) for u in managers]
        owners += [(demo_users[k].pk, 1.0) for k in ("sales1", "sales2", "sales3")]
        owners += [(demo_users["manager1"].pk, 0.5)]
        self.owner_ids = [pk for pk, _ in owners]
        total, cum = 0.0, []
        for _, weight in owners:
            total += weight
            cum.append(total)
        self.owner_cum = cum
        self.all_user_ids = [u.pk for u in sales + managers] + [
            demo_users[k].pk for k in ("sales1", "sales2", "sales3", "manager1")
        ]

        def ids(kind):
            return list(DictEntry.objects.filter(kind=kind).values_list("pk", flat=True))

        self.levels, self.sources = ids(DictKind.LEVEL), ids(DictKind.SOURCE)
        self.industries, self.tags = ids(DictKind.INDUSTRY), ids(DictKind.TAG)
        self.methods = ids(DictKind.PAYMENT_METHOD)
        districts = list(
            Region.objects.filter(level=Region.Level.DISTRICT)
            .select_related("parent__parent")
            .only(
                "adcode",
                "longitude",
                "latitude",
                "parent__name",
                "parent__level",
                "parent__parent__name",
                "parent__parent__level",
            )
        )
        self.pool_id = self.default_pool_id()
        self.cities = CITIES + MORE_CITIES
        self.places = []  # (province, city, district, lon, lat)
        # Districts of the city a customer's name starts with (厦门… → 思明区, 湖里区, …).
        self.places_by_city: dict[str, list[tuple]] = {name: [] for name in self.cities}
        for d in districts:
            city = d.parent if d.parent and d.parent.level == Region.Level.CITY else None
            province = city.parent if city else d.parent
            place = (
                province.pk if province else None,
                city.pk if city else None,
                d.pk,
                d.longitude,
                d.latitude,
            )
            self.places.append(place)
            home = city or province
            if home is not None and home.name.removesuffix("市") in self.places_by_city:
                self.places_by_city[home.name.removesuffix("市")].append(place)
        self.brands = [a + b for a in BRAND_CHARS for b in BRAND_CHARS if a != b]
        # Realistic word frequencies: a few cities, brands and trades are frequent, most rare
        # (Zipf, weight 1/rank), as company-name parts are in a real register.
        self.city_cum = _zipf_cum(len(self.cities))
        self.brand_cum = _zipf_cum(len(self.brands))
        self.trades = TRADES + MORE_TRADES
        self.trade_cum = _zipf_cum(len(self.trades))
        self.surname_cum = list(itertools.accumulate(SURNAME_WEIGHTS[: len(SURNAMES)]))

    @staticmethod
    def default_pool_id() -> int | None:
        """The pool that pooled customers sit in, when customers have a ``pool`` (SPEC §3)."""
        try:
            field = Customer._meta.get_field("pool")
        except FieldDoesNotExist:
            return None
        pool = field.related_model.objects.first()  # ordered default pool first
        return pool.pk if pool else None

    # ------------------------------------------------------------------ customers
    def phone(self, city: str) -> str:
        rng = self.rng
        if rng.random() < 0.85:
            return make_mobile(rng)
        area = AREA_CODES.get(city, "0592")
        rest = 6 if area in SEVEN_DIGIT_AREAS else 7
        return f"{area}-{rng.randint(2, 8)}{''.join(rng.choices('0123456789', k=rest))}"

    def make_customers(
        self, writer: Writer, n: int, contacts_per_customer: int, contracts: int, payments: int
    ) -> None:
        rng = self.rng
        now = timezone.now()
        start_id = (Customer.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.next_contract_id = (Contract.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        self.next_payment_id = (Payment.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        # receivable_total is generated by the database: never written.
        concrete = [f for f in Customer._meta.concrete_fields if not f.generated]
        defaults = {f.attname: f.get_default() for f in concrete}
        c_fields = [f.attname for f in concrete]
        k_fields = [f.attname for f in Contact._meta.concrete_fields if f.attname != "id"]
        t_fields = ["customer_id", "dictentry_id"]
        s_fields = ["customer_id", "user_id", "shared_by_id", "created_at"]
        TagThrough = Customer.tags.through
        choices, random_ = rng.choices, rng.random
        for chunk_start in range(0, n, CHUNK):
            size = min(CHUNK, n - chunk_start)
            drawn_owners = choices(self.owner_ids, cum_weights=self.owner_cum, k=size)
            drawn_cities = choices(self.cities, cum_weights=self.city_cum, k=size)
            drawn_brands = choices(self.brands, cum_weights=self.brand_cum, k=size)
            drawn_trades = choices(self.trades, cum_weights=self.trade_cum, k=size)
            drawn_surnames = choices(SURNAMES, cum_weights=self.surname_cum, k=size)
            c_dicts, k_rows, t_rows, s_rows = [], [], [], []
            for j in range(size):
                cid = start_id + chunk_start + j
                city_name = drawn_cities[j]
                draw = random_()
                if draw < 0.03:
                    brand = rng.choice(LATIN_BRANDS)
                elif draw < 0.5:
                    brand = rng.choice(WORDS)
                else:
                    brand = drawn_brands[j]
                prefix = city_name if random_() < 0.9 else ""
                name = f"{prefix}{brand}{drawn_trades[j]}{rng.choice(NAME_SUFFIXES)}"
                places = self.places_by_city[city_name] if random_() < 0.9 else None
                province, city, district, lon, lat = rng.choice(places or self.places)
                created = now - timedelta(days=TWO_YEARS * random_() ** 1.3)
                owner = drawn_owners[j]
                in_pool = random_() < 0.2
                contact_name = drawn_surnames[j] + rng.choice(GIVEN)
                phone = self.phone(city_name)
                row = dict(defaults)
                row.update(
                    id=cid,
                    name=name,
                    name_normalized=normalize_name(name),
                    legal_person=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    credit_code=_uscc(cid, district) if random_() < 0.7 else "",
                    bank_name=rng.choice(BANKS),
                    bank_account="".join(rng.choices("0123456789", k=16)),
                    industry_id=rng.choice(self.industries) if self.industries else None,
                    products=rng.choice(PRODUCTS),
                    raw_materials=rng.choice(PRODUCTS),
                    province_id=province,
                    city_id=city,
                    district_id=district,
                    address=f"{rng.choice(WORDS)}路{rng.randint(1, 999)}号",
                    longitude=lon,
                    latitude=lat,
                    contact_name=contact_name,
                    contact_phone=phone,
                    level_id=rng.choice(self.levels) if self.levels else None,
                    source_id=rng.choice(self.sources) if self.sources else None,
                    owner_id=None if in_pool else owner,
                    creator_id=owner,
                    previous_owner_id=owner if in_pool else None,
                    pooled_at=created + (now - created) * random_() if in_pool else None,
                    claimed_at=created + (now - created) * random_()
                    if not in_pool and random_() < 0.05
                    else None,
                    next_followup_at=(
                        now + timedelta(days=rng.randint(-30, 60), hours=rng.randint(0, 9))
                    ).replace(minute=0, second=0, microsecond=0)
                    if not in_pool and random_() < 0.5
                    else None,
                    last_followup_at=created + (now - created) * random_()
                    if random_() < 0.6
                    else None,
                    remark="",
                    created_at=created,
                    updated_at=created + (now - created) * random_(),
                    version=1,
                    status=CustomerStatus.OPEN,  # 已成交 once it has an approved contract
                )
                if in_pool and self.pool_id is not None:
                    row["pool_id"] = self.pool_id
                c_dicts.append(row)

                for k in range(contacts_per_customer):
                    if k == 0:
                        mobile = phone if phone.startswith("1") else ""
                        contact = {
                            "name": contact_name,
                            "mobile": mobile,
                            "phone": "" if mobile else phone,
                            "email": "",
                            "position": "",
                            "gender": Gender.UNKNOWN,
                            "is_decision_maker": True,
                            "birthday": None,
                            "remark": "自动添加",
                            "is_primary": True,
                        }
                    else:
                        contact = {
                            "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                            "mobile": make_mobile(rng) if random_() < 0.85 else "",
                            "phone": self.phone(city_name) if random_() < 0.3 else "",
                            "email": "".join(rng.choices("abcdefghjkmnpqrstwxyz", k=6))
                            + f"{rng.randint(1, 999)}@{rng.choice(MAIL_DOMAINS)}"
                            if random_() < 0.3
                            else "",
                            "position": rng.choice(POSITIONS),
                            "gender": rng.choice((Gender.MALE, Gender.FEMALE, Gender.UNKNOWN)),
                            "is_decision_maker": random_() < 0.2,
                            "birthday": date(
                                rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28)
                            )
                            if random_() < 0.2
                            else None,
                            "remark": "",
                            "is_primary": False,
                        }
                    contact["customer_id"] = cid
                    contact["created_at"] = created + timedelta(minutes=k)
                    k_rows.append(tuple(contact[f] for f in k_fields))

                if self.tags and random_() < 0.4:
                    for tag in rng.sample(self.tags, k=min(len(self.tags), rng.randint(1, 3))):
                        t_rows.append((cid, tag))
                if not in_pool and random_() < 0.03:
                    targets = {rng.choice(self.all_user_ids) for _ in range(rng.randint(1, 2))}
                    for user_id in targets - {owner}:
                        s_rows.append((cid, user_id, owner, created + (now - created) * random_()))

            # This chunk's share of the documents (cumulative, so the totals come out exact).
            end = chunk_start + size
            n_contracts = contracts * end // n - contracts * chunk_start // n
            n_payments = payments * end // n - payments * chunk_start // n
            contract_rows, payment_rows = self.make_documents(c_dicts, n_contracts, n_payments, now)
            writer.write(Customer, c_fields, [tuple(r[f] for f in c_fields) for r in c_dicts])
            writer.write(Contact, k_fields, k_rows)
            writer.write(TagThrough, t_fields, t_rows)
            writer.write(CustomerShare, s_fields, s_rows)
            writer.write(Contract, CONTRACT_FIELDS, contract_rows)
            writer.write(Payment, PAYMENT_FIELDS, payment_rows)
            self.log(f"customers {end:>10,} / {n:,}")

    # ------------------------------------------------------------------ documents
    def make_documents(
        self, customers: list[dict], n_contracts: int, n_payments: int, now
    ) -> tuple[list[tuple], list[tuple]]:
        """``n_contracts`` contracts on ~30 % of ``customers`` and ``n_payments`` payments on the
        approved ones; the customers' receivables and status set from them (in place)."""
        if not customers or not n_contracts:
            return [], []
        rng = self.rng
        random_, randint = rng.random, rng.randint
        holders = rng.sample(customers, k=max(1, round(len(customers) * HOLDER_SHARE)))
        kinds = list(CONTRACT_KINDS)
        kind_cum = []
        total = 0.0
        for weight, _low, _high in CONTRACT_KINDS.values():
            total += weight
            kind_cum.append(total)
        drawn_kinds = rng.choices(kinds, cum_weights=kind_cum, k=n_contracts)
        drawn_holders = rng.choices(holders, k=n_contracts)
        seq: dict[int, int] = {}
        contract_rows = []
        approved = []  # (contract id, customer row, kind, amount in cents, approved_at, creator)
        for kind, customer in zip(drawn_kinds, drawn_holders, strict=True):
            cid = self.next_contract_id
            self.next_contract_id += 1
            _, low, high = CONTRACT_KINDS[kind]
            cents = randint(low * 100, high * 100)
            created = customer["created_at"] + (now - customer["created_at"]) * random_()
            user = customer["creator_id"]
            roll = random_()
            status = "approved" if roll < 0.978 else "draft" if roll < 0.998 else "pending"
            submitted = created + timedelta(minutes=randint(1, 120)) if status != "draft" else None
            approved_at = (
                min(submitted + timedelta(hours=randint(1, 48)), now)
                if status == "approved"
                else None
            )
            seq[customer["id"]] = n = seq.get(customer["id"], 0) + 1
            local = timezone.localtime(created)
            contract_rows.append(
                (
                    cid,
                    f"HTB{cid:012d}",
                    customer["id"],
                    status,
                    0,
                    user if submitted else None,
                    submitted,
                    approved_at,
                    None,
                    "",
                    "",
                    user,
                    created,
                    approved_at or submitted or created,
                    f"{local:%Y%m%d}{KIND_LABELS[kind]}订单{n:03d}",
                    kind,
                    Decimal(cents).scaleb(-2),
                    created,
                    created + timedelta(days=365) if kind in WARRANTY_KINDS else None,
                    user,
                    None,
                )
            )
            if status == "approved":
                approved.append((cid, customer, kind, cents, approved_at, user))
                column = f"receivable_{kind}"
                customer[column] = (customer[column] or Decimal("0.00")) + Decimal(cents).scaleb(-2)
                customer["status"] = CustomerStatus.WON

        payment_rows = []
        if not approved or not n_payments:
            return contract_rows, payment_rows
        # Payments per approved contract (random), then each contract's paid share split evenly
        # into its payments (instalments): their sum never exceeds the contract's amount.
        per_contract: dict[int, int] = {}
        for index in rng.choices(range(len(approved)), k=n_payments):
            per_contract[index] = per_contract.get(index, 0) + 1
        for index, count in per_contract.items():
            cid, customer, kind, cents, approved_at, user = approved[index]
            paid_cents = cents if random_() < 0.4 else int(cents * (0.1 + 0.85 * random_()))
            count = min(count, cents)
            paid_cents = max(paid_cents, count)
            base = paid_cents // count
            for k in range(count):
                pid = self.next_payment_id
                self.next_payment_id += 1
                amount = base + (paid_cents - base * count if k == count - 1 else 0)
                created = approved_at + (now - approved_at) * random_()
                status = "approved" if random_() < 0.998 else "pending"
                submitted = min(created + timedelta(minutes=randint(1, 60)), now)
                p_approved = (
                    min(submitted + timedelta(hours=randint(1, 24)), now)
                    if status == "approved"
                    else None
                )
                money = Decimal(amount).scaleb(-2)
                payment_rows.append(
                    (
                        pid,
                        f"HKB{pid:012d}",
                        customer["id"],
                        status,
                        0,
                        user,
                        submitted,
                        p_approved,
                        None,
                        "",
                        "",
                        user,
                        created,
                        p_approved or submitted,
                        cid,
                        None,
                        kind,
                        money,
                        timezone.localtime(created).date(),
                        rng.choice(self.methods) if self.methods else None,
                    )
                )
                if status == "approved":
                    column = f"receivable_{kind}"
                    customer[column] -= money
        return contract_rows, payment_rows

    # ------------------------------------------------------------------ housekeeping
    def reset_sequences(self) -> None:
        """Explicit ids were written: move the id sequences past them (PostgreSQL)."""
        statements = connection.ops.sequence_reset_sql(no_style(), [Customer, Contract, Payment])
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def analyze(self) -> None:
        """Planner statistics and the visibility map (index-only scans for COUNT) right away,
        as autovacuum would do a little later: without them the first benchmarks measure a
        freshly loaded table (seq scans, heap fetches) rather than a settled database."""
        tables = [
            Customer._meta.db_table,
            Contact._meta.db_table,
            Customer.tags.through._meta.db_table,
            CustomerShare._meta.db_table,
            Contract._meta.db_table,
            Payment._meta.db_table,
            User._meta.db_table,
            Department._meta.db_table,
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = ", ".join(connection.ops.quote_name(t) for t in tables)
                cursor.execute(f"VACUUM (ANALYZE) {names}")
            elif connection.vendor == "sqlite":
                cursor.execute("ANALYZE")
        self.log("statistics updated")
