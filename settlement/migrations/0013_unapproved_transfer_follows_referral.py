"""domain.md §3.3: a transfer without an approved referral is settled on the region's referral
terms with the fund paying 50% of that. The rows of its own that a region could set (and which
could disagree with its referral row) are no longer read: removed."""

from django.db import migrations


def remove_rows(apps, schema_editor):
    apps.get_model("settlement", "CategoryPolicy").objects.filter(
        category="unapproved_transfer"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("settlement", "0012_settlement_and_claim_list_indexes")]

    operations = [migrations.RunPython(remove_rows, migrations.RunPython.noop)]
