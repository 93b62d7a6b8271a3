-- 0001: sites, patients and the canonical measurement stream.
-- Every table here is shared by the embedded (PGlite) and server (PostgreSQL) backends.

-- A hospital (site) of the network. Every patient belongs to exactly one site, and site
-- isolation in the API is enforced on this column.
CREATE TABLE site (
  id         text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patient (
  id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  site_id     text NOT NULL REFERENCES site (id),
  birth_date  date,
  sex         text CHECK (sex IN ('female', 'male', 'other', 'unknown')),
  deceased_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_site_idx ON patient (site_id);

-- The canonical measurement stream consumed by the clinical engine. Append-only and
-- idempotent by provenance: re-importing a record (same source, record id, concept) stores
-- nothing new. The value is in the concept's canonical UCUM unit; what the source said is
-- kept verbatim next to it so every conversion can be audited.
CREATE TABLE measurement (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id      text NOT NULL REFERENCES patient (id),
  concept         text NOT NULL,
  value           double precision NOT NULL,
  unit            text NOT NULL,
  effective_start timestamptz NOT NULL,
  effective_end   timestamptz,
  source          text NOT NULL,
  record_id       text NOT NULL,
  original_value  text,
  original_unit   text,
  ingested_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT measurement_provenance_key UNIQUE (source, record_id, concept),
  CONSTRAINT measurement_interval_check CHECK (effective_end IS NULL OR effective_end >= effective_start)
);
CREATE INDEX measurement_patient_concept_time_idx ON measurement (patient_id, concept, effective_start);
