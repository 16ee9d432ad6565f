from django.db import migrations


def forwards(apps, schema_editor):
    """Databases migrated before the monthly clearing schedule existed get it now (portal's
    schedules migration ran with the list of its day); get_or_create leaves edited ones alone."""
    from portal.schedules import ensure

    ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0005_decimal_checks_tolerate_sqlite_floats"),
        ("portal", "0004_audit_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
