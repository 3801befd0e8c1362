"""Fewer indexes on the customers table: each one is written by every insert (an import of
100,000 rows) and by every update that is not HOT (a receivable posted, an owner changed).

At 1,000,000 customers the table carried 44 indexes; inserting 5,000 rows took 4.5–7.4 s with
them and 1.8–3.0 s without the 15 dropped here (two runs each, 2 cores, the machine busy):

- the per-column trigram and pair indexes of 0002 and 0005 (客户名称, 联系人, 联系电话): the
  search panel's single-field filters find their candidates through the keyword indexes of 0008
  and let the field decide (``search.keyword_q(value, fields=...)``);
- ``cust_creator_idx``, the same index as the foreign key's own;
- ``cust_created_idx`` and ``cust_recv_idx``: on PostgreSQL the covering indexes of 0010 serve
  the same orders; SQLite gets the same two indexes (without INCLUDE) under those names;
- the owner's and the pool's foreign-key indexes: the list indexes start with those columns;
- the ``varchar_pattern_ops`` twins (``…_like``) of the region keys, the phone and the normalised
  name, and of the contacts' phones: nothing asks them for a prefix (查重 compares whole names and
  numbers; the phone filter and the keyword box look for any part).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

GIN = [
    ("cust_name_upper_trgm", "USING gin (UPPER(name) gin_trgm_ops)"),
    ("cust_contact_name_trgm", "USING gin (UPPER(contact_name) gin_trgm_ops)"),
    ("cust_phone_trgm", "USING gin (contact_phone gin_trgm_ops)"),
    ("cust_name_bigrams", "USING gin (kehu_bigrams(UPPER(name)))"),
    ("cust_contact_name_bigrams", "USING gin (kehu_bigrams(UPPER(contact_name)))"),
]
LIKE = [
    ("customers_customer_province_id_2aaeaea8_like", "(province_id varchar_pattern_ops)"),
    ("customers_customer_city_id_1c6ce634_like", "(city_id varchar_pattern_ops)"),
    ("customers_customer_district_id_312024e4_like", "(district_id varchar_pattern_ops)"),
    ("customers_customer_contact_phone_c20902bd_like", "(contact_phone varchar_pattern_ops)"),
    ("customers_customer_name_normalized_5e1440d5_like", "(name_normalized varchar_pattern_ops)"),
]
CONTACT_LIKE = [
    ("customers_contact_mobile_dd9b4228_like", "(mobile varchar_pattern_ops)"),
    ("customers_contact_phone_0a903c69_like", "(phone varchar_pattern_ops)"),
]
SQLITE_COVER = [
    ("cust_created_cover_idx", '("created_at" DESC, "id" DESC)'),
    ("cust_recv_cover_idx", '("receivable_total" DESC, "id" DESC)'),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _definition in GIN + LIKE + CONTACT_LIKE:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    else:
        for name, columns in SQLITE_COVER:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {columns}"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in GIN + LIKE:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {definition}"
            )
        for name, definition in CONTACT_LIKE:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON customers_contact {definition}"
            )
    else:
        for name, _columns in SQLITE_COVER:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0013_grams_without_digits"),
        ("pool", "0002_default_pool"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="cust_created_idx"),
        migrations.RemoveIndex(model_name="customer", name="cust_creator_idx"),
        migrations.RemoveIndex(model_name="customer", name="cust_recv_idx"),
        migrations.AlterField(
            model_name="customer",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="owned_customers",
                to=settings.AUTH_USER_MODEL,
                verbose_name="负责人",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="pool",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="customers",
                to="pool.pool",
                verbose_name="所在公海",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
