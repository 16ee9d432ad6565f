"""An index on InsuredPerson.name: the filings, claims and settlements lists find a person's
rows by their exact full name (portal.admin.IdNumberSearch.person_name_field)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0011_encrypt_social_security_no")]

    operations = [
        migrations.AddIndex(
            model_name="insuredperson",
            index=models.Index(fields=["name"], name="portal_insuredperson_name_idx"),
        )
    ]
