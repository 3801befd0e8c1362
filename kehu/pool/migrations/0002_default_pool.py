from django.db import migrations


def create_default_pool(apps, schema_editor):
    Pool = apps.get_model("pool", "Pool")
    Customer = apps.get_model("customers", "Customer")
    pool, _ = Pool.objects.get_or_create(name="客户公海", defaults={"is_default": True})
    Customer.objects.filter(owner__isnull=True, pool__isnull=True).update(pool=pool)


class Migration(migrations.Migration):
    dependencies = [("pool", "0001_initial"), ("customers", "0004_pool_fields")]
    operations = [migrations.RunPython(create_default_pool, migrations.RunPython.noop)]
