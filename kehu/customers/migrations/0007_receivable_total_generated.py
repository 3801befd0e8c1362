"""待收款金额 becomes a stored generated column: the sum of the six kinds, kept by the database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_duplicate_check_log")]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="cust_owner_recv_idx"),
        migrations.RemoveIndex(model_name="customer", name="cust_recv_idx"),
        migrations.RemoveField(model_name="customer", name="receivable_total"),
        migrations.AddField(
            model_name="customer",
            name="receivable_total",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.F("receivable_vehicle")
                + models.F("receivable_parts")
                + models.F("receivable_used_vehicle")
                + models.F("receivable_lease")
                + models.F("receivable_repair")
                + models.F("receivable_maintenance"),
                output_field=models.DecimalField(decimal_places=2, max_digits=15),
                verbose_name="待收款金额",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["owner", "-receivable_total", "-id"], name="cust_owner_recv_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["-receivable_total", "-id"], name="cust_recv_idx"),
        ),
    ]
