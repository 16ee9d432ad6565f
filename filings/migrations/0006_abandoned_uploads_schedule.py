from django.db import migrations


def forwards(apps, schema_editor):
    """The daily removal of abandoned uploads, for databases whose schedules were written
    before it existed (get_or_create leaves edited schedules alone)."""
    from portal.schedules import ensure

    ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("filings", "0005_filing_relatives_home"),
        ("portal", "0004_audit_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
