"""The fellowships Harbour knows, with their own meeting types (``data/fellowships.json``)."""

from django.db import migrations


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    from harbour.meetings.types import fellowships

    Fellowship = apps.get_model("meetings", "Fellowship")
    for slug, spec in fellowships().items():
        Fellowship.objects.update_or_create(
            slug=slug,
            defaults={
                "name": spec["en"],
                "name_en": spec["en"],
                "name_fr": spec["fr"],
                "kind": spec["kind"],
                "terms": spec["terms"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
