from django.db import migrations


def forwards(apps, schema_editor):
    from portal.schedules import ensure

    ensure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
