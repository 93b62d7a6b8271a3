-- 0003: trial operations - trials, the consumed slots of the randomisation lists (kits),
-- allocations, dispensations, emergency unblinding with its sponsor notification (outbox),
-- withdrawals, protocol deviations, CRF changes, the screening log, and the hash-chained
-- audit log. See src/trial (pure rules) and src/store/trial.ts, src/store/audit.ts.
--
-- Append-only tables refuse UPDATE, DELETE and TRUNCATE with a trigger. (Privileges cannot do
-- this for the owner of the tables, the only user of the embedded database.) A superuser can
-- still bypass triggers (session_replication_role = replica): that is what the audit chain
-- is for - verification detects whatever was changed that way.

CREATE FUNCTION trial_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TABLE trial (
  id                text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
  definition        jsonb NOT NULL,
  definition_sha256 text NOT NULL CHECK (definition_sha256 ~ '^[0-9a-f]{64}$'),
  -- The randomisation seed: whoever holds it can regenerate every list (src/trial/sequence.ts).
  -- Only its SHA-256 goes into the audit log; who may read the seed is decided by the API.
  seed_hex          text NOT NULL CHECK (seed_hex ~ '^([0-9a-f]{2}){16,64}$'),
  seed_sha256       text NOT NULL CHECK (seed_sha256 ~ '^[0-9a-f]{64}$'),
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL
);

-- One row per stratum in use: the last position taken from its list. Slots are generated on
-- demand from the seed (a pure function, identical to pre-generation); taking a position
-- increments this row, whose lock serialises randomisations within the stratum.
CREATE TABLE trial_stratum (
  trial_id      text NOT NULL REFERENCES trial (id),
  stratum_key   text NOT NULL,
  factors       jsonb NOT NULL,
  last_position integer NOT NULL CHECK (last_position >= 1),
  PRIMARY KEY (trial_id, stratum_key)
);

CREATE FUNCTION trial_stratum_count_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.trial_id <> OLD.trial_id OR NEW.stratum_key <> OLD.stratum_key OR NEW.factors <> OLD.factors
     OR NEW.last_position <> OLD.last_position + 1 THEN
    RAISE EXCEPTION 'trial_stratum only counts up by one' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

-- The consumed slots of the randomisation lists, with their kits: the pharmacy's kit list.
-- The arm lives here only; blinded queries never select it.
CREATE TABLE trial_slot (
  trial_id          text NOT NULL,
  stratum_key       text NOT NULL,
  position          integer NOT NULL CHECK (position >= 1),
  block             integer NOT NULL CHECK (block >= 1),
  block_size        integer NOT NULL CHECK (block_size >= 1),
  position_in_block integer NOT NULL CHECK (position_in_block BETWEEN 1 AND block_size),
  arm_id            text NOT NULL,
  kit_number        text NOT NULL,
  PRIMARY KEY (trial_id, stratum_key, position),
  CONSTRAINT trial_slot_kit_key UNIQUE (trial_id, kit_number),
  UNIQUE (trial_id, stratum_key, position, kit_number),
  FOREIGN KEY (trial_id, stratum_key) REFERENCES trial_stratum (trial_id, stratum_key)
);

-- One allocation per patient per trial, one patient per slot. The evidence the decision rested
-- on (classification and eligibility, as produced by the clinical engine) is frozen here.
CREATE TABLE trial_allocation (
  trial_id        text NOT NULL REFERENCES trial (id),
  patient_id      text NOT NULL REFERENCES patient (id),
  site_id         text NOT NULL REFERENCES site (id),
  immune_class    text NOT NULL CHECK (immune_class IN ('MALS', 'immunoparalysis')),
  stratum_key     text NOT NULL,
  position        integer NOT NULL,
  kit_number      text NOT NULL,
  evidence        jsonb NOT NULL,
  evidence_sha256 text NOT NULL CHECK (evidence_sha256 ~ '^[0-9a-f]{64}$'),
  randomised_by   text NOT NULL,
  randomised_at   timestamptz NOT NULL,
  PRIMARY KEY (trial_id, patient_id),
  UNIQUE (trial_id, stratum_key, position),
  UNIQUE (trial_id, patient_id, kit_number),
  FOREIGN KEY (trial_id, stratum_key, position, kit_number)
    REFERENCES trial_slot (trial_id, stratum_key, position, kit_number)
);
CREATE INDEX trial_allocation_site_idx ON trial_allocation (trial_id, site_id);

-- One dispensation per kit, of the patient's own kit.
CREATE TABLE trial_dispensation (
  trial_id     text NOT NULL,
  kit_number   text NOT NULL,
  patient_id   text NOT NULL,
  dispensed_by text NOT NULL,
  dispensed_at timestamptz NOT NULL,
  PRIMARY KEY (trial_id, kit_number),
  FOREIGN KEY (trial_id, patient_id, kit_number) REFERENCES trial_allocation (trial_id, patient_id, kit_number)
);

CREATE TABLE trial_unblinding (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trial_id     text NOT NULL,
  patient_id   text NOT NULL,
  reason       text NOT NULL,
  requested_by text NOT NULL,
  at           timestamptz NOT NULL,
  FOREIGN KEY (trial_id, patient_id) REFERENCES trial_allocation (trial_id, patient_id)
);
CREATE INDEX trial_unblinding_patient_idx ON trial_unblinding (trial_id, patient_id);

-- Events for other systems (the sponsor's pharmacovigilance), written in the same transaction
-- as the fact they report and delivered later by whoever reads the outbox (transactional outbox).
CREATE TABLE outbox_event (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic        text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL,
  delivered_at timestamptz
);
CREATE INDEX outbox_event_pending_idx ON outbox_event (id) WHERE delivered_at IS NULL;

CREATE TABLE trial_withdrawal (
  trial_id    text NOT NULL,
  patient_id  text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('consent-withdrawn', 'investigator-decision', 'lost-to-follow-up', 'other')),
  reason      text NOT NULL,
  recorded_by text NOT NULL,
  at          timestamptz NOT NULL,
  PRIMARY KEY (trial_id, patient_id),
  FOREIGN KEY (trial_id, patient_id) REFERENCES trial_allocation (trial_id, patient_id)
);

CREATE TABLE trial_deviation (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trial_id    text NOT NULL REFERENCES trial (id),
  site_id     text NOT NULL REFERENCES site (id),
  patient_id  text REFERENCES patient (id),
  category    text NOT NULL,
  severity    text NOT NULL CHECK (severity IN ('minor', 'major')),
  description text NOT NULL,
  recorded_by text NOT NULL,
  at          timestamptz NOT NULL
);

-- Every change of a CRF field: old value, new value, who, when, why. Versions count per field;
-- the old value of version n+1 must be the new value of version n (checked by the store).
CREATE TABLE trial_crf_change (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trial_id   text NOT NULL REFERENCES trial (id),
  patient_id text NOT NULL REFERENCES patient (id),
  form       text NOT NULL,
  field      text NOT NULL,
  version    integer NOT NULL CHECK (version >= 1),
  old_value  jsonb NOT NULL,
  new_value  jsonb NOT NULL,
  reason     text NOT NULL,
  changed_by text NOT NULL,
  at         timestamptz NOT NULL,
  UNIQUE (trial_id, patient_id, form, field, version)
);

CREATE TABLE trial_screening (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trial_id    text NOT NULL REFERENCES trial (id),
  patient_id  text NOT NULL REFERENCES patient (id),
  site_id     text NOT NULL REFERENCES site (id),
  outcome     text NOT NULL CHECK (outcome IN ('screened', 'not-eligible', 'unclassified', 'randomised', 'withdrawn')),
  reasons     jsonb NOT NULL DEFAULT '[]',
  recorded_by text NOT NULL,
  at          timestamptz NOT NULL
);
CREATE INDEX trial_screening_trial_idx ON trial_screening (trial_id, site_id);

-- The audit chain (src/trial/audit.ts defines the hash). `at` is kept to the millisecond, the
-- precision that is hashed, so the stored value is exactly the hashed one.
CREATE TABLE audit_entry (
  seq       bigint PRIMARY KEY CHECK (seq >= 1),
  at        timestamptz NOT NULL CHECK (at = date_trunc('milliseconds', at)),
  actor     text NOT NULL,
  action    text NOT NULL,
  subject   text NOT NULL,
  payload   jsonb NOT NULL,
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash      text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);

-- The chain's head, in one row: appends lock it (serialising them) and move it forward by
-- one; verification compares it with the last entry, which detects entries deleted from the end.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint NOT NULL,
  hash      text NOT NULL
);
INSERT INTO audit_head (singleton, seq, hash) VALUES (true, 0, repeat('0', 64));

CREATE FUNCTION audit_head_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.seq <> OLD.seq + 1 THEN
    RAISE EXCEPTION 'audit_head only moves forward by one entry' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER trial_stratum_count_up BEFORE UPDATE ON trial_stratum FOR EACH ROW EXECUTE FUNCTION trial_stratum_count_up();
CREATE TRIGGER audit_head_moves_forward BEFORE UPDATE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_head_moves_forward();
CREATE TRIGGER trial_stratum_no_delete BEFORE DELETE ON trial_stratum FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION trial_append_only();

CREATE TRIGGER trial_append_only BEFORE UPDATE OR DELETE ON trial FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_slot_append_only BEFORE UPDATE OR DELETE ON trial_slot FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_allocation_append_only BEFORE UPDATE OR DELETE ON trial_allocation FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_dispensation_append_only BEFORE UPDATE OR DELETE ON trial_dispensation FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_unblinding_append_only BEFORE UPDATE OR DELETE ON trial_unblinding FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_withdrawal_append_only BEFORE UPDATE OR DELETE ON trial_withdrawal FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_deviation_append_only BEFORE UPDATE OR DELETE ON trial_deviation FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_crf_change_append_only BEFORE UPDATE OR DELETE ON trial_crf_change FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_screening_append_only BEFORE UPDATE OR DELETE ON trial_screening FOR EACH ROW EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry FOR EACH ROW EXECUTE FUNCTION trial_append_only();

CREATE TRIGGER trial_no_truncate BEFORE TRUNCATE ON trial FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_slot_no_truncate BEFORE TRUNCATE ON trial_slot FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_allocation_no_truncate BEFORE TRUNCATE ON trial_allocation FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_dispensation_no_truncate BEFORE TRUNCATE ON trial_dispensation FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_unblinding_no_truncate BEFORE TRUNCATE ON trial_unblinding FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_withdrawal_no_truncate BEFORE TRUNCATE ON trial_withdrawal FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_deviation_no_truncate BEFORE TRUNCATE ON trial_deviation FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_crf_change_no_truncate BEFORE TRUNCATE ON trial_crf_change FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_screening_no_truncate BEFORE TRUNCATE ON trial_screening FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER trial_stratum_no_truncate BEFORE TRUNCATE ON trial_stratum FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head FOR EACH STATEMENT EXECUTE FUNCTION trial_append_only();
