"""Load the national division table (省/市/区县, GB/T 2260) from the installed cpca package."""

from django.db import migrations


def load(apps, schema_editor):
    from kehu.basics.regions import load_regions

    load_regions(apps.get_model("basics", "Region"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("basics", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
