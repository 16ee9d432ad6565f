"""The access log is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE.

TRUNCATE stays possible for the database owner (test flushes, a retention job).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION hospitals_accesslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hospitals_accesslog is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hospitals_accesslog_append_only
    BEFORE UPDATE OR DELETE ON hospitals_accesslog
    FOR EACH ROW EXECUTE FUNCTION hospitals_accesslog_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS hospitals_accesslog_append_only ON hospitals_accesslog;
DROP FUNCTION IF EXISTS hospitals_accesslog_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("hospitals", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
