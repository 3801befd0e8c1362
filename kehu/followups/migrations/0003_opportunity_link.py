"""A follow-up now points at its 商机. The old integer column could only hold ids of opportunities
that did not exist yet (the model landed in sales 0002), so nothing of value is dropped."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0002_followup_lead"),
        ("sales", "0002_opportunity"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="followup",
            name="opportunity_id",
        ),
        migrations.AddField(
            model_name="followup",
            name="opportunity",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="followups",
                to="sales.opportunity",
                verbose_name="商机",
            ),
        ),
    ]
