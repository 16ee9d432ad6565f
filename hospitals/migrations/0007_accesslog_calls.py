"""AccessLog.calls: repeats of one read folded into its row are counted on it.

The access log stays append-only (0002), with one exception the trigger now lets through: an
UPDATE that raises `calls` and changes nothing else. Who read whose record, when and with which
outcome still cannot be altered or deleted, and a count cannot go down.
"""

from django.db import migrations, models

COUNTED = """
CREATE OR REPLACE FUNCTION hospitals_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.calls > OLD.calls
            AND to_jsonb(NEW) - 'calls' = to_jsonb(OLD) - 'calls' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'hospitals_accesslog is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
STRICT = """
CREATE OR REPLACE FUNCTION hospitals_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hospitals_accesslog is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNTED)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STRICT)


class Migration(migrations.Migration):
    dependencies = [
        ("hospitals", "0006_accesslog_plural_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="calls",
            field=models.PositiveIntegerField(default=1, db_default=1, verbose_name="calls"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
