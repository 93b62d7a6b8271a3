-- 0004: the CDS Hooks service (src/server/cds). JWT ids already seen (replay protection shared
-- by every instance), the hook calls answered with the cards issued (what ImmunoGuide told the
-- EHR, kept as a record of the advice given), and the feedback the EHR sends back: accepted
-- suggestions and overridden cards with their reasons.

-- A JWT id is refused a second time until the token has expired (then exp refuses it anyway);
-- rows past expires_at are purged by the service (a minute's scan: no index beyond the key).
CREATE TABLE cds_jwt_seen (
  issuer     text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, jti)
);

-- One row per answered call, its cards inline (written with the jti claim in one statement: the
-- hot path of the service, see src/store/cds.ts).
CREATE TABLE cds_call (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at   timestamptz NOT NULL DEFAULT now(),
  service_id    text NOT NULL,
  hook          text NOT NULL,
  hook_instance text NOT NULL,
  -- JWT iss and tenant; null only when unauthenticated calls are allowed (development).
  issuer        text,
  tenant        text,
  -- context.userId ("Practitioner/123") and context.patientId (the EHR's FHIR id).
  user_ref      text,
  patient_ref   text NOT NULL,
  -- Per prefetch key: where the data came from (prefetch, fhir-server, none), ok/unavailable, count.
  data_sources  jsonb NOT NULL,
  -- The cards issued: [{"uuid", "indicator", "summary", "kind", "suggestions": [{"uuid", "label"}]}].
  cards         jsonb NOT NULL,
  -- Their uuids, to find the card a feedback is about.
  card_uuids    uuid[] NOT NULL,
  CHECK (cardinality(card_uuids) = jsonb_array_length(cards))
);
CREATE INDEX cds_call_patient ON cds_call (patient_ref, received_at);
CREATE INDEX cds_call_card_uuids ON cds_call USING gin (card_uuids);

CREATE TABLE cds_feedback (
  id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at             timestamptz NOT NULL DEFAULT now(),
  service_id              text NOT NULL,
  -- As sent by the EHR: feedback about a card we do not know is still recorded (card_known false).
  card_uuid               text NOT NULL,
  card_known              boolean NOT NULL,
  outcome                 text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  accepted_suggestions    text[] NOT NULL DEFAULT '{}',
  override_reason_system  text,
  override_reason_code    text,
  override_reason_display text,
  user_comment            text,
  outcome_at              timestamptz NOT NULL,
  issuer                  text,
  CHECK (outcome <> 'accepted' OR cardinality(accepted_suggestions) > 0)
);
CREATE INDEX cds_feedback_card ON cds_feedback (card_uuid);

-- The advice given and the answers to it are a record: no UPDATE or DELETE.
CREATE FUNCTION cds_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER cds_call_append_only BEFORE UPDATE OR DELETE ON cds_call FOR EACH ROW EXECUTE FUNCTION cds_append_only();
CREATE TRIGGER cds_feedback_append_only BEFORE UPDATE OR DELETE ON cds_feedback FOR EACH ROW EXECUTE FUNCTION cds_append_only();
