"""An issued clearing statement cannot change: on PostgreSQL triggers refuse any change of its
amounts or lines (only issued → superseded is allowed), whatever writes to the table."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION settlement_statement_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'clearing statement % is issued: DELETE refused', OLD.number;
    END IF;
    IF NEW.number <> OLD.number OR NEW.period <> OLD.period
       OR NEW.treatment_region_id <> OLD.treatment_region_id
       OR NEW.insured_region_id <> OLD.insured_region_id OR NEW.version <> OLD.version
       OR NEW.settlement_count <> OLD.settlement_count OR NEW.total <> OLD.total
       OR NEW.fund_pay <> OLD.fund_pay OR NEW.person_pay <> OLD.person_pay
       OR NEW.issued_at IS DISTINCT FROM OLD.issued_at
       OR NEW.supersedes_id IS DISTINCT FROM OLD.supersedes_id
       OR NOT (NEW.status = OLD.status OR (OLD.status = 'issued' AND NEW.status = 'superseded'))
    THEN
        RAISE EXCEPTION 'clearing statement % is issued: it cannot change', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER settlement_statement_locked
    BEFORE UPDATE OR DELETE ON settlement_clearingstatement
    FOR EACH ROW EXECUTE FUNCTION settlement_statement_locked();

CREATE OR REPLACE FUNCTION settlement_statement_lines_locked() RETURNS trigger AS $$
DECLARE
    state text;
BEGIN
    SELECT status INTO state FROM settlement_clearingstatement
        WHERE id = COALESCE(NEW.statement_id, OLD.statement_id);
    IF state IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'the lines of an issued clearing statement cannot change';
    END IF;
    RETURN COALESCE(NEW, OLD);
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER settlement_statement_lines_locked
    BEFORE INSERT OR UPDATE OR DELETE ON settlement_clearingline
    FOR EACH ROW EXECUTE FUNCTION settlement_statement_lines_locked();
"""
DROP = """
DROP TRIGGER IF EXISTS settlement_statement_lines_locked ON settlement_clearingline;
DROP FUNCTION IF EXISTS settlement_statement_lines_locked();
DROP TRIGGER IF EXISTS settlement_statement_locked ON settlement_clearingstatement;
DROP FUNCTION IF EXISTS settlement_statement_locked();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("settlement", "0003_claims_review_clearing")]
    operations = [migrations.RunPython(forwards, backwards)]
