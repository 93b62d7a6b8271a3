-- 0005: import checkpoints. `immunoguide import` commits a file in batches; each batch's
-- transaction also records how far the file is stored, so a rerun after a crash or kill -9
-- skips the committed part (the provenance key of measurement makes any overlap harmless).
CREATE TABLE import_checkpoint (
  -- SHA-256 of the file's identity (size, mtime, first 64 KiB) and of the import settings
  -- (format, provenance source, default site, concept dictionary): change any and the file is read again.
  file_key     text PRIMARY KEY,
  path         text NOT NULL,
  -- Last physical line of the file whose records are committed.
  line_number  bigint NOT NULL CHECK (line_number >= 0),
  records      bigint NOT NULL DEFAULT 0,
  measurements bigint NOT NULL DEFAULT 0,
  complete     boolean NOT NULL DEFAULT false,
  started_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
