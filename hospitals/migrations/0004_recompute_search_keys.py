from django.db import migrations


def forwards(apps, schema_editor):
    """Hospitals imported before the initials by word existed get the search keys of today
    (`hospitals.services.search_keys`), so `hyd` finds them without a re-import."""
    from hospitals.services import search_keys

    Hospital = apps.get_model("hospitals", "Hospital")
    stale = []
    for hospital in Hospital.objects.only("pk", "name", "pinyin", "initials").iterator(2000):
        pinyin, initials = search_keys(hospital.name)
        if (hospital.pinyin, hospital.initials) != (pinyin, initials):
            hospital.pinyin, hospital.initials = pinyin, initials
            stale.append(hospital)
    Hospital.objects.bulk_update(stale, ["pinyin", "initials"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("hospitals", "0003_accesslog_drop_subject_hash_like_index")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
