/**
 * Where `immunoguide import` (and the HTTP import jobs) store what the parsers produce: each
 * batch of patients and measurements is written in ONE transaction together with the
 * checkpoint of its file, so a crash or kill -9 loses at most the batch in flight, and a rerun
 * resumes after the last committed line. Measurements are idempotent by provenance
 * (source, record id, concept): whatever a rerun repeats is skipped by the database.
 *
 * On the PostgreSQL server, new measurements go in with COPY FROM STDIN (text format, see
 * Queryable.copyFrom); on PGlite, and whenever rows may already be stored, with one INSERT ...
 * SELECT unnest(array per column): ten bound parameters per batch whatever its size (a VALUES
 * list needs ten parameters per row and a bigger statement to parse). COPY costs the server
 * about 1 s less CPU per million rows than that INSERT, a sixth of what an imported row cost it
 * (bench scratch, 300,000 rows: 6.4-7.1 s per million with the INSERT, 5.4-5.8 with COPY): it
 * parses no arrays, runs no set-returning functions, and fills heap pages several rows at a time
 * with one WAL record per page. Building its data costs the client less too (0.8 s per million
 * rows, 1.2-1.3 for the arrays). The rest of the server's work is mostly the three indexes of
 * measurement, the one on the provenance key above all (record ids are content hashes, so each
 * row lands at a random place of it; see migration 0008); see bench/ingest.ts, which also times
 * the server alone.
 *
 * On the PostgreSQL server two batches are written at once, each in its own transaction on its
 * own connection (one server process per core, where one alone was the import's ceiling: the
 * server's work per row is mostly index maintenance, which a second process doubles). Commits
 * stay in batch order, so a file's checkpoint never passes a batch that is not stored: a batch
 * writes its checkpoint and commits only once the batch before it has committed, and rolls back
 * if that one failed. The two never wait for each other inside the database, so they cannot
 * deadlock: a batch whose record ids, or whose new patients, the batch still in flight also has
 * waits for that batch's commit before inserting its measurements (see #storeInLane).
 */
import type { ImportIssue, PatientRecord, SourceMeasurement } from '../sources/import-format.ts';
import { DEFAULT_IMPORT_SITE, type ImportBatch, type ImportSink, type SinkCheckpoint, type SinkWriteResult } from '../sources/ingest/run.ts';
import { type Database, DatabaseError, type Queryable } from './db.ts';

/** Rows per INSERT statement (bounded statement size; a batch may be split). */
const ROWS_PER_STATEMENT = 50_000;

/** One write of the sink in lane mode, as the next write sees it. */
interface LaneWrite {
  /** True once committed, false if it failed (never rejects). */
  readonly outcome: Promise<boolean>;
  settled: boolean;
  /** Record ids of its measurements (any overlap with the next batch serialises the two). */
  readonly recordIds: ReadonlySet<string>;
  /** Patients it inserted or moved (visible to other transactions only once it commits). */
  readonly patients: Set<string>;
  /** The write before it, until this one settles. */
  predecessor: LaneWrite | undefined;
}

const LOCK_NOT_AVAILABLE = '55P03';

/** Thrown by a write whose predecessor failed: it must not commit (the import stops with the predecessor's error). */
class PredecessorFailed extends Error {
  override name = 'PredecessorFailed';
}

export interface StoreImportSinkOptions {
  /**
   * Batches written at once (default: 2 on the PostgreSQL server, 1 on PGlite, whose single
   * connection runs one transaction at a time).
   */
  writesInFlight?: number;
  /**
   * With more than one write in flight, the longest a write waits for rows another transaction
   * holds before it fails (default 300 s; see #storeInLane).
   */
  lockTimeoutMs?: number;
}

export class StoreImportSink implements ImportSink {
  readonly writesInFlight: number;
  readonly #db: Database;
  readonly #lockTimeoutMs: number;
  /** Patient id -> site, for patients known to exist (bounded: cleared when large). */
  readonly #known = new Map<string, string>();
  /** Patients this sink created as stubs (may still move to the site a Patient record names). */
  readonly #stubs = new Set<string>();
  /** Patients whose records contradict the stored site: their measurements are refused. */
  readonly #conflicts = new Map<string, string>();
  readonly #sites = new Set<string>();
  #expectDuplicates = false;
  /** Lane mode: the latest write. */
  #last: LaneWrite | undefined;
  /** Lane mode: settles when the latest write has made its patients exist (in its transaction). */
  #patientsTurn: Promise<void> = Promise.resolve();

  constructor(db: Database, options: StoreImportSinkOptions = {}) {
    this.#db = db;
    this.writesInFlight = Math.max(1, Math.min(2, options.writesInFlight ?? (db.backend === 'postgres' ? 2 : 1)));
    this.#lockTimeoutMs = Math.max(1, Math.round(options.lockTimeoutMs ?? 300_000));
  }

  async checkpoint(fileKey: string): Promise<SinkCheckpoint | undefined> {
    const result = await this.#db.query<{ line_number: number | string; complete: boolean }>(
      'SELECT line_number, complete FROM import_checkpoint WHERE file_key = $1',
      [fileKey],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { line: Number(row.line_number), complete: row.complete };
  }

  async write(batch: ImportBatch): Promise<SinkWriteResult> {
    if (this.writesInFlight === 1) {
      return this.#db.transaction(async (tx) => {
        const issues = await this.#ensurePatients(tx, batch, undefined);
        const { accepted, inserted } = await this.#insertMeasurements(tx, batch);
        await this.#advanceCheckpoint(tx, batch, inserted);
        return { inserted, dropped: batch.measurements.length - accepted.length, issues };
      });
    }
    return this.#storeInLane(batch);
  }

  /**
   * A write alongside the one before it (`previous`, still in flight or not). In its
   * transaction: its patients (after `previous` made its own, so that stubs and site moves are
   * decided in batch order), then its measurements (after `previous` committed, when they name
   * a patient `previous` created or share a record id with it: the database would otherwise
   * make this transaction wait for that one, which waits here for nothing but could not tell),
   * then, once `previous` committed, its checkpoint.
   */
  async #storeInLane(batch: ImportBatch): Promise<SinkWriteResult> {
    const previous = this.#last;
    const beforePrevious = previous?.predecessor;
    let settle!: (committed: boolean) => void;
    const write: LaneWrite = {
      outcome: new Promise<boolean>((resolve) => (settle = resolve)),
      settled: false,
      recordIds: new Set(batch.measurements.map((m) => m.provenance.recordId)),
      patients: new Set(),
      predecessor: previous,
    };
    this.#last = write;
    const patientsTurn = this.#patientsTurn;
    let patientsDone!: () => void;
    this.#patientsTurn = new Promise<void>((resolve) => (patientsDone = resolve));
    const awaitPrevious = async (): Promise<void> => {
      if (previous !== undefined && !(await previous.outcome)) throw new PredecessorFailed('the batch before this one was not stored');
    };
    try {
      // At most two transactions at once: the one before `previous` must be done.
      if (beforePrevious !== undefined) await beforePrevious.outcome;
      const result = await this.#db.transaction(async (tx) => {
        // A safety net: two imports of overlapping data in two processes could, in rare
        // interleavings, wait on each other through this process's commit order, where
        // PostgreSQL cannot see the cycle; a lock wait this long fails the import (which resumes).
        await tx.exec(`SET LOCAL lock_timeout = ${this.#lockTimeoutMs}`);
        let issues: ImportIssue[];
        try {
          await patientsTurn;
          issues = await this.#ensurePatients(tx, batch, write.patients);
        } finally {
          patientsDone();
        }
        if (previous !== undefined && !previous.settled && dependsOn(batch, write, previous)) await awaitPrevious();
        const { accepted, inserted } = await this.#insertMeasurements(tx, batch);
        await awaitPrevious();
        await this.#advanceCheckpoint(tx, batch, inserted);
        return { inserted, dropped: batch.measurements.length - accepted.length, issues };
      });
      settle(true);
      return result;
    } catch (error) {
      settle(false);
      if (error instanceof PredecessorFailed && previous !== undefined) await previous.outcome;
      if (error instanceof DatabaseError && error.code === LOCK_NOT_AVAILABLE) {
        throw new DatabaseError(
          `the import waited more than ${this.#lockTimeoutMs / 1000} s for rows another transaction holds (another import of the same data at the same time?); nothing of this batch was stored, and running the import again resumes after the last stored batch (${error.message})`,
          error.code,
          { cause: error },
        );
      }
      throw error;
    } finally {
      patientsDone();
      write.settled = true;
      write.predecessor = undefined;
    }
  }

  async #insertMeasurements(tx: Queryable, batch: ImportBatch): Promise<{ accepted: readonly SourceMeasurement[]; inserted: number }> {
    const accepted = this.#conflicts.size === 0 ? batch.measurements : batch.measurements.filter((m) => !this.#conflicts.has(m.patientId));
    // New data (a first import) goes in with a plain INSERT; once a batch met rows already
    // stored (a re-import), the next ones go straight to ON CONFLICT DO NOTHING.
    const { inserted, duplicates } = await insertMeasurementColumns(tx, accepted, this.#expectDuplicates ? 'skip-stored' : 'try-plain');
    this.#expectDuplicates = duplicates;
    return { accepted, inserted };
  }

  async #advanceCheckpoint(tx: Queryable, batch: ImportBatch, inserted: number): Promise<void> {
    await tx.query(
        `INSERT INTO import_checkpoint (file_key, path, line_number, records, measurements, complete)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (file_key) DO UPDATE SET
           path = EXCLUDED.path,
           line_number = GREATEST(import_checkpoint.line_number, EXCLUDED.line_number),
           records = import_checkpoint.records + EXCLUDED.records,
           measurements = import_checkpoint.measurements + EXCLUDED.measurements,
           complete = import_checkpoint.complete OR EXCLUDED.complete,
           updated_at = now()`,
        [batch.fileKey, batch.file, batch.throughLine, batch.records, inserted, batch.complete],
      );
  }

  /**
   * Makes every patient of the batch exist: Patient records are inserted or their demographics
   * filled in; patients known only from a measurement get a stub at the batch's default site.
   * A record naming another site than the stored one is a conflict (two hospitals using the
   * same id is not something to merge silently).
   */
  async #ensurePatients(tx: Queryable, batch: ImportBatch, created: Set<string> | undefined): Promise<ImportIssue[]> {
    const issues: ImportIssue[] = [];
    const records = new Map<string, PatientRecord>();
    for (const record of batch.patients) records.set(record.id, { ...records.get(record.id), ...record });
    const wanted = new Set<string>(records.keys());
    for (const m of batch.measurements) if (!this.#known.has(m.patientId)) wanted.add(m.patientId);
    const unknown = [...wanted].filter((id) => !this.#known.has(id));
    if (unknown.length > 0) {
      const existing = await tx.query<{ id: string; site_id: string }>('SELECT id, site_id FROM patient WHERE id = ANY($1)', [unknown]);
      for (const row of existing.rows) this.#remember(row.id, row.site_id);
    }
    if (this.#known.size > 1_000_000) this.#known.clear(); // re-read from the database when needed

    const toInsert: Array<{ id: string; site: string; record: PatientRecord | undefined }> = [];
    const toUpdate: PatientRecord[] = [];
    for (const id of wanted) {
      const record = records.get(id);
      const site = record?.siteId ?? batch.defaultSiteId;
      const stored = this.#known.get(id);
      if (stored === undefined) {
        toInsert.push({ id, site, record });
        continue;
      }
      if (record === undefined) continue;
      if (record.siteId !== undefined && record.siteId !== stored) {
        if (this.#stubs.has(id) || stored === DEFAULT_IMPORT_SITE) {
          // Created from a measurement before its Patient record (by this import, or earlier
          // into the holding site "default"): move it to the site its record names.
          await this.#ensureSites(tx, [record.siteId]);
          await tx.query('UPDATE patient SET site_id = $2 WHERE id = $1', [id, record.siteId]);
          created?.add(id);
          this.#known.set(id, record.siteId);
          this.#stubs.delete(id);
        } else {
          if (!this.#conflicts.has(id)) {
            issues.push({
              severity: 'error',
              code: 'conflict',
              diagnostics: `patient ${id} belongs to site ${stored}, but the source assigns it to ${record.siteId} (batch ending at line ${batch.throughLine}): its records are not imported`,
              location: [`line ${batch.throughLine}`],
              file: batch.file,
            });
          }
          this.#conflicts.set(id, stored);
          continue;
        }
      }
      if (record.birthDate !== undefined || record.sex !== undefined || record.deceasedAt !== undefined) toUpdate.push(record);
    }
    if (toInsert.length > 0) {
      await this.#ensureSites(tx, [...new Set(toInsert.map((p) => p.site))]);
      await tx.query(
        `INSERT INTO patient (id, site_id, birth_date, sex, deceased_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::timestamptz[])
         ON CONFLICT (id) DO NOTHING`,
        [
          toInsert.map((p) => p.id),
          toInsert.map((p) => p.site),
          toInsert.map((p) => p.record?.birthDate ?? null),
          toInsert.map((p) => p.record?.sex ?? null),
          toInsert.map((p) => p.record?.deceasedAt ?? null),
        ],
      );
      for (const p of toInsert) {
        created?.add(p.id);
        this.#remember(p.id, p.site);
        if (p.record?.siteId === undefined) this.#stubs.add(p.id);
      }
    }
    for (const record of toUpdate) {
      await tx.query(
        `UPDATE patient SET birth_date = COALESCE($2, birth_date), sex = COALESCE($3, sex), deceased_at = COALESCE($4, deceased_at)
         WHERE id = $1`,
        [record.id, record.birthDate ?? null, record.sex ?? null, record.deceasedAt ?? null],
      );
    }
    return issues;
  }

  async #ensureSites(tx: Queryable, sites: string[]): Promise<void> {
    const missing = sites.filter((s) => !this.#sites.has(s));
    if (missing.length === 0) return;
    // A site first seen in an import is created with its id as its name; `upsertSite` renames it.
    await tx.query('INSERT INTO site (id, name) SELECT s, s FROM unnest($1::text[]) AS s ON CONFLICT (id) DO NOTHING', [missing]);
    for (const s of missing) this.#sites.add(s);
  }

  #remember(id: string, site: string): void {
    this.#known.set(id, site);
  }
}

/**
 * Whether `batch` (of `write`) must wait for `previous` to commit before inserting its
 * measurements: they name a patient `previous` created or moved, or share a record id with it
 * (the same line twice in a file, say). Record ids alone are compared (a shared id with another
 * concept only costs the overlap).
 */
function dependsOn(batch: ImportBatch, write: LaneWrite, previous: LaneWrite): boolean {
  if (previous.patients.size > 0) {
    for (const m of batch.measurements) if (previous.patients.has(m.patientId)) return true;
  }
  const [smaller, larger] = write.recordIds.size <= previous.recordIds.size ? [write.recordIds, previous.recordIds] : [previous.recordIds, write.recordIds];
  for (const id of smaller) if (larger.has(id)) return true;
  return false;
}

/**
 * Inserts measurements with one statement per 50,000 rows (arrays per column); rows whose
 * provenance is already stored are skipped. Returns the number inserted and whether any row was
 * already stored.
 *
 * Rows go in grouped by patient and concept (in order of both; file order within a group, so
 * measurements at the same time keep their order by id): the index on (patient_id, concept,
 * effective_start) is then filled page after page instead of at random places, which saved
 * about a fifth of PostgreSQL's work per row in bench/ingest.
 *
 * 'try-plain' first runs a plain COPY (PostgreSQL server) or INSERT (PGlite) in a savepoint,
 * about 30-40 % cheaper for PostgreSQL than INSERT ... ON CONFLICT DO NOTHING; when a row is
 * already stored (unique violation) it rolls back to the savepoint and inserts with ON CONFLICT
 * DO NOTHING. Any other error (a missing patient: 23503) is thrown. Must run in a transaction.
 */
export async function insertMeasurementColumns(
  db: Queryable,
  measurements: readonly SourceMeasurement[],
  mode: 'try-plain' | 'skip-stored' = 'skip-stored',
): Promise<{ inserted: number; duplicates: boolean }> {
  let inserted = 0;
  let duplicates = false;
  const rows = inIndexOrder(measurements);
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const end = Math.min(rows.length, start + ROWS_PER_STATEMENT);
    if (mode === 'try-plain' && !duplicates) {
      await db.exec('SAVEPOINT immunoguide_import');
      try {
        inserted +=
          db.copyFrom !== undefined
            ? await db.copyFrom(COPY_MEASUREMENTS, measurementCopyData(rows, start, end))
            : (await db.query(INSERT_MEASUREMENTS, measurementColumns(rows, start, end))).affectedRows;
        await db.exec('RELEASE SAVEPOINT immunoguide_import');
        continue;
      } catch (error) {
        await db.exec('ROLLBACK TO SAVEPOINT immunoguide_import');
        if (!(error instanceof DatabaseError) || error.code !== UNIQUE_VIOLATION) throw error;
        duplicates = true;
      }
    }
    const result = await db.query(`${INSERT_MEASUREMENTS} ON CONFLICT ON CONSTRAINT measurement_provenance_key DO NOTHING`, measurementColumns(rows, start, end));
    inserted += result.affectedRows;
    if (result.affectedRows < end - start) duplicates = true;
  }
  return { inserted, duplicates };
}

const UNIQUE_VIOLATION = '23505';
const MEASUREMENT_COLUMNS = 'patient_id, concept, value, unit, effective_start, effective_end, source, record_id, original_value, original_unit';
const COPY_MEASUREMENTS = `COPY measurement (${MEASUREMENT_COLUMNS}) FROM STDIN`;
// unnest in the select list (the arrays have the same length, so they are read in lockstep): as
// a FROM item the multi-array unnest first copies every row into a tuplestore, about 8 % of
// PostgreSQL's work per row in bench/ingest.
const INSERT_MEASUREMENTS = `INSERT INTO measurement (${MEASUREMENT_COLUMNS})
  SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::float8[]), unnest($4::text[]), unnest($5::timestamptz[]),
         unnest($6::timestamptz[]), unnest($7::text[]), unnest($8::text[]), unnest($9::text[]), unnest($10::text[])`;

/**
 * The measurements grouped by patient, then concept (ids and concepts in code-unit order), each
 * group in input order: a counting sort over the groups (a comparison sort of 50,000 rows cost
 * more than the rest of the batch's preparation).
 */
export function inIndexOrder(rows: readonly SourceMeasurement[]): readonly SourceMeasurement[] {
  const n = rows.length;
  if (n < 2) return rows;
  // Group numbers by first appearance, through patient -> concept -> group.
  const groupOf = new Map<string, Map<string, number>>();
  const keys: Array<{ patient: string; concept: string }> = [];
  const group = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const m = rows[i]!;
    let concepts = groupOf.get(m.patientId);
    if (concepts === undefined) {
      concepts = new Map();
      groupOf.set(m.patientId, concepts);
    }
    let g = concepts.get(m.concept);
    if (g === undefined) {
      g = keys.length;
      keys.push({ patient: m.patientId, concept: m.concept });
      concepts.set(m.concept, g);
    }
    group[i] = g;
  }
  if (keys.length === 1) return rows;
  // Rank of each group in (patient, concept) order, then each group's first slot.
  const ranked = keys.map((_, g) => g).sort((a, b) => compareKeys(keys[a]!, keys[b]!));
  const slot = new Uint32Array(keys.length + 1);
  const rankOf = new Uint32Array(keys.length);
  ranked.forEach((g, rank) => (rankOf[g] = rank));
  for (let i = 0; i < n; i++) slot[rankOf[group[i]!]! + 1]!++;
  for (let r = 1; r <= keys.length; r++) slot[r]! += slot[r - 1]!;
  const ordered = new Array<SourceMeasurement>(n);
  for (let i = 0; i < n; i++) ordered[slot[rankOf[group[i]!]!]!++] = rows[i]!;
  return ordered;
}

function compareKeys(a: { patient: string; concept: string }, b: { patient: string; concept: string }): number {
  if (a.patient !== b.patient) return a.patient < b.patient ? -1 : 1;
  return a.concept < b.concept ? -1 : a.concept > b.concept ? 1 : 0;
}

/**
 * The ten column arrays of the INSERT for rows [start, end), each as one PostgreSQL array
 * literal. node-postgres would serialise JavaScript arrays itself, element by element through
 * two regular expressions: that was most of the client's cost of a batch. Elements are joined
 * once per column (concatenating 50,000 of them one by one builds string ropes that cost more
 * to flatten than the join), and a column's element is reused while its text repeats (the rows
 * are grouped by patient and concept, and source and unit rarely change).
 */
function measurementColumns(rows: readonly SourceMeasurement[], start: number, end: number): string[] {
  const n = end - start;
  const patient = new RepeatQuoter(n);
  const concept = new RepeatQuoter(n);
  const value = new Array<string>(n);
  const unit = new RepeatQuoter(n);
  const startTime = new Array<string>(n);
  const endTime = new Array<string>(n);
  const source = new RepeatQuoter(n);
  const recordId = new Array<string>(n);
  const originalValue = new RepeatQuoter(n);
  const originalUnit = new RepeatQuoter(n);
  for (let i = 0; i < n; i++) {
    const m = rows[start + i]!;
    patient.set(i, m.patientId);
    concept.set(i, m.concept);
    value[i] = floatElement(m.value);
    unit.set(i, m.unit);
    startTime[i] = quoteElement(m.time);
    endTime[i] = m.endTime === undefined ? 'NULL' : quoteElement(m.endTime);
    source.set(i, m.provenance.source);
    recordId[i] = quoteElement(m.provenance.recordId);
    originalValue.set(i, String(m.reported?.value ?? m.value));
    originalUnit.set(i, m.reported?.unit ?? m.unit);
  }
  return [patient.elements, concept.elements, value, unit.elements, startTime, endTime, source.elements, recordId, originalValue.elements, originalUnit.elements].map(
    (elements) => `{${elements.join(',')}}`,
  );
}

/**
 * Rows [start, end) as the data of COPY_MEASUREMENTS, UTF-8 in COPY's text format: the same texts
 * as the array elements of measurementColumns (the server reads numbers and times with the same
 * input functions either way), in the same order. Each row is one string written into a growing
 * buffer (joining the 50,000 row strings instead cost almost three times as much: the join
 * flattens every row's rope), and a column's text is escaped again only when it differs from the
 * previous row's.
 */
function measurementCopyData(rows: readonly SourceMeasurement[], start: number, end: number): Uint8Array {
  let data = Buffer.allocUnsafe((end - start) * 160);
  let length = 0;
  const patient = new RepeatEscaper();
  const concept = new RepeatEscaper();
  const unit = new RepeatEscaper();
  const source = new RepeatEscaper();
  const originalValue = new RepeatEscaper();
  const originalUnit = new RepeatEscaper();
  for (let i = start; i < end; i++) {
    const m = rows[i]!;
    const endTime = m.endTime === undefined ? COPY_NULL : copyField(m.endTime);
    const line =
      `${patient.field(m.patientId)}\t${concept.field(m.concept)}\t${copyFloat(m.value)}\t${unit.field(m.unit)}\t${copyField(m.time)}\t${endTime}\t` +
      `${source.field(m.provenance.source)}\t${copyField(m.provenance.recordId)}\t${originalValue.field(String(m.reported?.value ?? m.value))}\t${originalUnit.field(m.reported?.unit ?? m.unit)}\n`;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (length + line.length * 3 > data.length) {
      const grown = Buffer.allocUnsafe(Math.max(data.length * 2, length + line.length * 3));
      data.copy(grown, 0, 0, length);
      data = grown;
    }
    length += data.write(line, length);
  }
  return data.subarray(0, length);
}

const COPY_NULL = '\\N';
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A text as one field of COPY's text format: backslash, newline, carriage return and tab escaped (any text, a literal \\N included, stays text). */
export function copyField(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!) : text;
}

/** A float8 field: JavaScript's shortest round-trip form, NaN and infinities by name (as floatElement, unquoted). */
function copyFloat(value: number): string {
  return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/** Escaped COPY fields of one column, escaping a text again only when it differs from the previous one. */
class RepeatEscaper {
  #text: string | undefined;
  #escaped = '';
  field(text: string): string {
    if (text !== this.#text) {
      this.#text = text;
      this.#escaped = copyField(text);
    }
    return this.#escaped;
  }
}

/** Quoted array elements of one column, quoting a text again only when it differs from the previous one. */
class RepeatQuoter {
  readonly elements: string[];
  #text: string | undefined;
  #quoted = '';
  constructor(n: number) {
    this.elements = new Array<string>(n);
  }
  set(i: number, text: string): void {
    if (text !== this.#text) {
      this.#text = text;
      this.#quoted = quoteElement(text);
    }
    this.elements[i] = this.#quoted;
  }
}

/** An array element in double quotes (any text, "NULL" included, stays text), \ and " escaped. */
export function quoteElement(text: string): string {
  return text.indexOf('"') === -1 && text.indexOf('\\') === -1 ? `"${text}"` : `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** A float8 element: JavaScript's shortest round-trip form (what node-postgres sent), NaN and infinities by name. */
function floatElement(value: number): string {
  return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
}
