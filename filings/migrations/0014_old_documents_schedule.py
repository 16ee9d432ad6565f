from django.db import migrations


def forwards(apps, schema_editor):
    """The daily removal of outdated rendered PDFs, for databases whose schedules were written
    before it existed (get_or_create leaves edited schedules alone)."""
    from portal.schedules import ensure

    ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("filings", "0013_material_filing_label"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
