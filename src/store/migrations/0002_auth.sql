-- 0002: users, roles and sites, API keys, the local token issuer's signing keys, the PHI
-- access log, and the job queue shared by every server instance.

-- A person who signs in. Under an external OpenID Connect issuer users are not stored here
-- (their roles and sites come from token claims); under the local issuer they are.
CREATE TABLE app_user (
  id            text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._@-]{2,64}$'),
  display_name  text NOT NULL,
  password_hash text,
  roles         text[] NOT NULL CHECK (roles <@ ARRAY['clinician', 'investigator', 'pharmacist', 'monitor', 'statistician', 'admin']::text[] AND cardinality(roles) > 0),
  sites         text[] NOT NULL DEFAULT '{}',
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Service clients (an EHR integration, a nightly export). The secret is never stored, only
-- its SHA-256 (keys are 256-bit random, so a fast hash is enough).
CREATE TABLE api_key (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  secret_hash text NOT NULL,
  roles       text[] NOT NULL CHECK (roles <@ ARRAY['clinician', 'investigator', 'pharmacist', 'monitor', 'statistician', 'admin']::text[] AND cardinality(roles) > 0),
  sites       text[] NOT NULL DEFAULT '{}',
  created_by  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Signing keys of the local token issuer, shared through the database so every instance
-- verifies tokens that any instance issued.
CREATE TABLE signing_key (
  kid         text PRIMARY KEY,
  alg         text NOT NULL,
  private_jwk jsonb NOT NULL,
  public_jwk  jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retired_at  timestamptz
);
-- At most one active key: instances racing to create the first one keep a single winner.
CREATE UNIQUE INDEX signing_key_one_active ON signing_key ((true)) WHERE retired_at IS NULL;

-- Every read and write of patient data, allowed or not: who, what, when, from where, why.
-- Append-only: a trigger refuses UPDATE and DELETE.
CREATE TABLE access_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  actor_kind  text NOT NULL CHECK (actor_kind IN ('user', 'api-key', 'anonymous')),
  roles       text[] NOT NULL DEFAULT '{}',
  method      text NOT NULL,
  route       text NOT NULL,
  action      text NOT NULL,
  patient_id  text,
  site_id     text,
  outcome     text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'not-found')),
  status      integer NOT NULL,
  client_ip   text,
  user_agent  text,
  reason      text,
  request_id  text
);
CREATE INDEX access_log_patient_idx ON access_log (patient_id, at);
CREATE INDEX access_log_actor_idx ON access_log (actor, at);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Long work (imports, screening) as jobs any instance can run: workers claim a job with
-- FOR UPDATE SKIP LOCKED, hold a lease while working, and a job whose lease expired (its
-- worker died) is claimed again. Progress lives here, not in any process's memory.
CREATE TABLE job (
  id           text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  kind         text NOT NULL,
  parent_id    text REFERENCES job (id) ON DELETE CASCADE,
  payload      jsonb NOT NULL DEFAULT '{}',
  status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  progress     jsonb NOT NULL DEFAULT '{}',
  result       jsonb,
  error        text,
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  locked_by    text,
  lease_until  timestamptz,
  site_id      text,
  created_by   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX job_claim_idx ON job (status, created_at);
CREATE INDEX job_parent_idx ON job (parent_id);

-- Large uploads for jobs, in chunks, so a worker on another instance can read them.
CREATE TABLE job_blob (
  job_id text NOT NULL REFERENCES job (id) ON DELETE CASCADE,
  part   integer NOT NULL,
  data   bytea NOT NULL,
  PRIMARY KEY (job_id, part)
);
