from django.db import migrations


def load(apps, schema_editor):
    from harbour.drugcheck.services import substances_load

    substances_load(model=apps.get_model("drugcheck", "Substance"))


class Migration(migrations.Migration):
    dependencies = [("drugcheck", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
