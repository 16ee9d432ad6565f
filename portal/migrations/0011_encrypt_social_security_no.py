"""The social security card number encrypted at rest, as the ID number is (privacy audit): the
column becomes text holding a Fernet token, blank becomes NULL, and each stored number is
encrypted. Reversible: back to the plain numbers in a 30-character column."""

import encrypted_fields.fields
from django.db import migrations

BATCH = 1000


def encrypt(apps, schema_editor):
    """Write each number back through the encrypted field. Reading a plain number gives it
    as it is (it is not a token) and reading a token gives the number, so running this twice,
    or on rows already encrypted, is harmless."""
    person_model = apps.get_model("portal", "InsuredPerson")
    rows = person_model.objects.using(schema_editor.connection.alias).only("social_security_no")
    batch = []
    for person in rows.order_by("pk").iterator(chunk_size=BATCH):
        person.social_security_no = (person.social_security_no or "").strip() or None
        batch.append(person)
        if len(batch) == BATCH:
            person_model.objects.bulk_update(batch, ["social_security_no"])
            batch = []
    if batch:
        person_model.objects.bulk_update(batch, ["social_security_no"])


def decrypt(apps, schema_editor):
    """The plain numbers written back as text (blank for none), before the column is a
    30-character one again."""
    person_model = apps.get_model("portal", "InsuredPerson")
    connection = schema_editor.connection
    table = connection.ops.quote_name(person_model._meta.db_table)
    column = connection.ops.quote_name("social_security_no")
    rows = person_model.objects.using(connection.alias).only("social_security_no")
    plain = [(person.social_security_no or "", person.pk) for person in rows.iterator()]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", plain)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0010_notification_recipient_label"),
    ]

    operations = [
        migrations.AlterField(
            model_name="insuredperson",
            name="social_security_no",
            field=encrypted_fields.fields.EncryptedCharField(
                blank=True,
                max_length=30,
                null=True,
                verbose_name="social security card number",
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
