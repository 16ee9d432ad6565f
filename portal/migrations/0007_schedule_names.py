from django.db import migrations


def forwards(apps, schema_editor):
    from portal.schedules import rename_former

    rename_former(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_alter_agencystaff_user_alter_notification_created_at_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
