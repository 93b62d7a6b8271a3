-- 0008: the provenance key of measurement with its most selective column first, compared byte by byte.
--
-- Every inserted measurement is looked up in measurement_provenance_key (to refuse or skip a
-- stored record), and record ids are mostly content hashes: each insert lands at a random
-- place of this index, and finding that place compares the new key with about twenty others.
-- With (source, record_id, concept) each comparison first compared the source, which is the same
-- for almost every row of an import, and then the record id under the database's collation
-- (strcoll: several times the cost of a byte comparison under a linguistic collation such as
-- en_US or ICU). With the record id first, in the "C" collation, a comparison is usually decided
-- by one memcmp. Measured on PostgreSQL 15 (rows inserted with COPY, 50,000 per statement), this
-- index was 40-45 % of the server's CPU per inserted row; the new order took 0.3-0.5 s off about
-- 5.5 s per million rows into an empty table and 0.6-0.8 s off about 8 s into one of a million
-- rows; where the record id was under a linguistic collation (en-US ICU), "C" took another 0.8 s
-- off (under glibc's C.UTF-8, strcoll already compares bytes, and only the order counts).
--
-- Semantics unchanged:
-- - uniqueness of (source, record_id, concept) does not depend on the order of the columns, and
--   under every deterministic collation two texts are equal exactly when their bytes are, so
--   the same rows are refused or skipped as before (same constraint name, so ON CONFLICT ON
--   CONSTRAINT measurement_provenance_key keeps working);
-- - record_id is an opaque identifier: "C" changes only how record ids sort (by byte, the same on
--   every server whatever its locale); nothing in ImmunoGuide orders or ranges by record_id.
--
-- The table is not rewritten (a collation change of a text column only rebuilds the indexes on
-- it); the key's index is built again: about 0.5 s per million measurements, during which the
-- migration holds the table locked.
ALTER TABLE measurement
  DROP CONSTRAINT measurement_provenance_key,
  ALTER COLUMN record_id TYPE text COLLATE "C",
  ADD CONSTRAINT measurement_provenance_key UNIQUE (record_id, source, concept);
