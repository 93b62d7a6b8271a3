-- 0006: the CDS Hooks hot path as one function (src/store/cds.ts recordCdsCalls, called by the
-- group commit in src/server/cds/recorder.ts). Each answered hook call is recorded with its cards
-- in the statement that claims its JWT id, as in 0004; several calls can now share the statement.
-- A PL/pgSQL function because its statement is planned once per database session and then reused,
-- where the same statement sent from the client is parsed and planned on every call: on the
-- embedded database (PostgreSQL as WebAssembly inside the server's event loop) that planning was
-- about a third of the cost of recording a call.
--
-- batch: a JSON array of {n, service_id, hook, hook_instance, issuer, tenant, user_ref,
-- patient_ref, data_sources, cards, claim_issuer, jti, expires_at}; n numbers the entries.
-- Returns the n of every entry recorded. An entry with a jti is recorded only when its
-- (claim_issuer, jti) was not seen before - by an earlier statement, on any instance, or by an
-- entry of the same batch with a smaller n - and its jti is then kept in cds_jwt_seen. An entry
-- without a jti (unauthenticated calls, development only) is always recorded.
CREATE FUNCTION cds_record_calls(batch jsonb) RETURNS SETOF integer LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(batch)
      AS i(n integer, service_id text, hook text, hook_instance text, issuer text, tenant text, user_ref text,
           patient_ref text, data_sources jsonb, cards jsonb, claim_issuer text, jti text, expires_at timestamptz)
  ), first_claim AS (
    -- Within the batch the first entry claiming an id wins.
    SELECT DISTINCT ON (claim_issuer, jti) n, claim_issuer, jti, expires_at
      FROM input WHERE jti IS NOT NULL ORDER BY claim_issuer, jti, n
  ), seen AS (
    -- Inserted in (issuer, jti) order: two instances claiming overlapping ids wait for each
    -- other instead of deadlocking.
    INSERT INTO cds_jwt_seen (issuer, jti, expires_at)
    SELECT claim_issuer, jti, expires_at FROM first_claim ORDER BY claim_issuer, jti
    ON CONFLICT (issuer, jti) DO NOTHING
    RETURNING cds_jwt_seen.issuer, cds_jwt_seen.jti
  ), accepted AS (
    SELECT i.* FROM input i
     WHERE i.jti IS NULL
        OR EXISTS (SELECT 1 FROM first_claim f JOIN seen s ON s.issuer = f.claim_issuer AND s.jti = f.jti WHERE f.n = i.n)
  ), recorded AS (
    INSERT INTO cds_call (service_id, hook, hook_instance, issuer, tenant, user_ref, patient_ref, data_sources, cards, card_uuids)
    SELECT a.service_id, a.hook, a.hook_instance, a.issuer, a.tenant, a.user_ref, a.patient_ref, a.data_sources, a.cards,
           ARRAY(SELECT (e.card->>'uuid')::uuid FROM jsonb_array_elements(a.cards) WITH ORDINALITY AS e(card, o) ORDER BY e.o)
      FROM accepted a ORDER BY a.n
  )
  -- (a data-modifying CTE runs to completion whether or not the outer query reads it)
  SELECT a.n FROM accepted a ORDER BY a.n;
END;
$$;

-- Seen JWT ids are purged every few seconds (src/server/cds/security.ts) instead of every minute,
-- by this index instead of a scan of the whole table: at 500 calls/s the table holds about
-- 200,000 ids and the minute's purge held the embedded database (and with it the server's event
-- loop) for about 30 ms; a purge of 5 seconds' worth through the index takes about 2 ms.
CREATE INDEX cds_jwt_seen_expires ON cds_jwt_seen (expires_at);
