"""A settlement the agency voids (a duplicate, a bill settled wrongly), with the state it was in
before; the parts of a split read back in the engine's order (BreakdownField)."""

from django.db import migrations, models

import settlement.models


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0013_unapproved_transfer_follows_referral"),
    ]

    operations = [
        migrations.AddField(
            model_name="settlement",
            name="voided_from",
            field=models.CharField(
                blank=True,
                choices=[
                    ("settled", "Settled"),
                    ("held_for_review", "Held for review"),
                    ("rejected", "Rejected on review"),
                    ("returned", "Returned to the hospital"),
                    ("voided", "Voided"),
                ],
                db_default="",
                max_length=16,
                verbose_name="state before it was voided",
            ),
        ),
        migrations.AlterField(
            model_name="claim",
            name="breakdown",
            field=settlement.models.BreakdownField(default=dict, verbose_name="breakdown"),
        ),
        migrations.AlterField(
            model_name="settlement",
            name="breakdown",
            field=settlement.models.BreakdownField(default=dict, verbose_name="breakdown"),
        ),
        migrations.AlterField(
            model_name="settlement",
            name="status",
            field=models.CharField(
                choices=[
                    ("settled", "Settled"),
                    ("held_for_review", "Held for review"),
                    ("rejected", "Rejected on review"),
                    ("returned", "Returned to the hospital"),
                    ("voided", "Voided"),
                ],
                max_length=16,
                verbose_name="status",
            ),
        ),
    ]
