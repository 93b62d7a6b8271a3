-- 0007: measurement.patient_id checked once per statement instead of once per row.
--
-- The foreign key measurement.patient_id -> patient(id) is checked by PostgreSQL row by row (an
-- index probe and a row lock on patient per inserted measurement); on bulk imports (50,000 rows
-- per INSERT) that check was about 40 % of the server's insert time. Statement-level triggers
-- with a transition table keep the same guarantee with one set-wise check per statement:
--
-- - INSERT into / UPDATE of measurement: every patient the new rows name must exist. The
--   distinct patients are locked FOR KEY SHARE, as the foreign key locks them, so a concurrent
--   DELETE of such a patient waits for this transaction and then sees its measurements (and is
--   refused), and a patient deleted meanwhile by a committed transaction is reported missing.
-- - DELETE from / UPDATE of patient.id / TRUNCATE of patient: refused while measurements name
--   the patient (NO ACTION semantics: checked at the end of the statement).
-- Both raise SQLSTATE 23503 (foreign_key_violation), like the foreign key did.
--
-- UPDATE triggers: PostgreSQL allows no column list (UPDATE OF patient_id) on a trigger with a
-- transition table, so the measurement trigger checks every updated row (nothing in ImmunoGuide
-- updates measurements: the stream is append-only). On patient, where imports update
-- demographics often and ids never, a row trigger fires only when the id itself changes.
-- The guarantee holds under READ COMMITTED, the isolation level ImmunoGuide uses.

ALTER TABLE measurement DROP CONSTRAINT measurement_patient_id_fkey;

CREATE FUNCTION measurement_patient_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  first_missing text;
  missing_count bigint;
BEGIN
  WITH wanted AS (
    SELECT DISTINCT patient_id AS id FROM new_measurements
  ), present AS MATERIALIZED (
    SELECT p.id FROM patient p JOIN wanted w ON w.id = p.id FOR KEY SHARE OF p
  )
  SELECT min(w.id), count(*) INTO first_missing, missing_count
    FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM present x WHERE x.id = w.id);
  IF missing_count > 0 THEN
    RAISE EXCEPTION USING
      ERRCODE = 'foreign_key_violation',
      MESSAGE = format('measurement refers to patient %s, which does not exist', quote_literal(first_missing)) ||
        CASE WHEN missing_count > 1 THEN format(' (nor do %s other patients of the statement)', missing_count - 1) ELSE '' END ||
        ' (foreign key measurement.patient_id -> patient.id)',
      DETAIL = 'a measurement''s patient_id must name a stored patient; nothing of the statement was stored',
      TABLE = 'measurement',
      COLUMN = 'patient_id',
      CONSTRAINT = 'measurement_patient_exists';
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER measurement_patient_exists_insert AFTER INSERT ON measurement
  REFERENCING NEW TABLE AS new_measurements
  FOR EACH STATEMENT EXECUTE FUNCTION measurement_patient_exists();
CREATE TRIGGER measurement_patient_exists_update AFTER UPDATE ON measurement
  REFERENCING NEW TABLE AS new_measurements
  FOR EACH STATEMENT EXECUTE FUNCTION measurement_patient_exists();

-- Raised when a patient that measurements still name is removed (or renamed); `ids` are the
-- removed ids, and one is only removed when no patient row holds it after the statement.
CREATE FUNCTION patient_refuse_referenced(ids text[], action text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  first_referenced text;
BEGIN
  SELECT min(r.id) INTO first_referenced
    FROM unnest(ids) AS r(id)
   WHERE EXISTS (SELECT 1 FROM measurement m WHERE m.patient_id = r.id)
     AND NOT EXISTS (SELECT 1 FROM patient p WHERE p.id = r.id);
  IF first_referenced IS NOT NULL THEN
    RAISE EXCEPTION USING
      ERRCODE = 'foreign_key_violation',
      MESSAGE = format('cannot %s patient %s: measurements refer to it (foreign key measurement.patient_id -> patient.id)', action, quote_literal(first_referenced)),
      DETAIL = 'a patient with stored measurements cannot be deleted or change its id',
      TABLE = 'patient',
      CONSTRAINT = 'measurement_patient_exists';
  END IF;
END;
$$;

CREATE FUNCTION patient_delete_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM patient_refuse_referenced(ARRAY(SELECT id FROM deleted_patients), 'delete');
  RETURN NULL;
END;
$$;

CREATE FUNCTION patient_rename_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM patient_refuse_referenced(ARRAY[OLD.id], 'change the id of');
  RETURN NULL;
END;
$$;

CREATE FUNCTION patient_truncate_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An AFTER TRUNCATE trigger runs once every table of the command is truncated: truncating
  -- patient together with measurement is allowed, as it was with the foreign key.
  IF EXISTS (SELECT 1 FROM measurement) THEN
    RAISE EXCEPTION USING
      ERRCODE = 'foreign_key_violation',
      MESSAGE = 'cannot truncate patient: measurements refer to its patients (foreign key measurement.patient_id -> patient.id; truncate measurement in the same command)',
      TABLE = 'patient',
      CONSTRAINT = 'measurement_patient_exists';
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER patient_delete_unreferenced AFTER DELETE ON patient
  REFERENCING OLD TABLE AS deleted_patients
  FOR EACH STATEMENT EXECUTE FUNCTION patient_delete_unreferenced();
CREATE TRIGGER patient_rename_unreferenced AFTER UPDATE OF id ON patient
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION patient_rename_unreferenced();
CREATE TRIGGER patient_truncate_unreferenced AFTER TRUNCATE ON patient
  FOR EACH STATEMENT EXECUTE FUNCTION patient_truncate_unreferenced();
