"""The access log's `subject_hash` is looked up by equality only (a keyed hash of the ID number),
so on PostgreSQL the `varchar_pattern_ops` twin index Django adds for LIKE prefixes is dropped:
one index fewer to maintain on every access-log write. The plain index stays (and the model is
unchanged: Django's state never tracked the twin).
"""

from django.db import migrations

DROP = """
DO $$
DECLARE
    idx text;
BEGIN
    FOR idx IN
        SELECT indexname FROM pg_indexes
        WHERE tablename = 'hospitals_accesslog'
            AND indexdef LIKE '%(subject_hash varchar_pattern_ops)%'
    LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', idx);
    END LOOP;
END
$$;
"""
CREATE = """
CREATE INDEX IF NOT EXISTS hospitals_accesslog_subject_hash_8c47f414_like
    ON hospitals_accesslog (subject_hash varchar_pattern_ops);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


class Migration(migrations.Migration):
    dependencies = [("hospitals", "0002_accesslog_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
