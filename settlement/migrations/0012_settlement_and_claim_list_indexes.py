"""Indexes for the lists that grow by the hundred thousand: a hospital's settlements by state
(its tabs, the desk's count of returned bills) and by month of discharge (a date range), and the
claims admin newest first, by region and overall. The plain foreign-key indexes that the new ones
lead with are dropped once those exist."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hospitals", "0006_accesslog_plural_name"),
        ("portal", "0010_notification_recipient_label"),
        ("settlement", "0011_category_share_and_resettled_deductible"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                fields=["insured_region", "-submitted_at", "-id"], name="claim_region_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(fields=["-submitted_at", "-id"], name="claim_recent"),
        ),
        migrations.AddIndex(
            model_name="settlement",
            index=models.Index(fields=["hospital", "status"], name="settlement_hospital_status"),
        ),
        migrations.AddIndex(
            model_name="settlement",
            index=models.Index(
                fields=["hospital", "discharged_on"], name="settlement_hospital_month"
            ),
        ),
        migrations.AlterField(
            model_name="claim",
            name="insured_region",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="portal.region",
                verbose_name="insured in",
            ),
        ),
        migrations.AlterField(
            model_name="settlement",
            name="hospital",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="settlements",
                to="hospitals.hospital",
                verbose_name="hospital",
            ),
        ),
    ]
