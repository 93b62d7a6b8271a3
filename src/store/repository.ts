/**
 * Data access for sites, patients and measurements. Plain functions over a Queryable so they
 * work on the database or inside a transaction, on either backend.
 */
import type { Queryable } from './db.ts';

export interface Site {
  id: string;
  name: string;
}

export interface Patient {
  id: string;
  siteId: string;
  birthDate: string | null;
  sex: 'female' | 'male' | 'other' | 'unknown' | null;
  deceasedAt: string | null;
}

/** A measurement as stored: value in the concept's canonical unit, with provenance. */
export interface StoredMeasurement {
  /** Database id (stable; the FHIR Observation id is derived from it). */
  id: number;
  patientId: string;
  concept: string;
  value: number;
  unit: string;
  effectiveStart: string;
  effectiveEnd: string | null;
  source: string;
  recordId: string;
  originalValue: string | null;
  originalUnit: string | null;
}

export type NewMeasurement = Omit<StoredMeasurement, 'id' | 'effectiveEnd' | 'originalValue' | 'originalUnit'> &
  Partial<Pick<StoredMeasurement, 'effectiveEnd' | 'originalValue' | 'originalUnit'>>;

export async function upsertSite(db: Queryable, site: Site): Promise<void> {
  await db.query('INSERT INTO site (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name', [
    site.id,
    site.name,
  ]);
}

export async function listSites(db: Queryable): Promise<Site[]> {
  const result = await db.query<Site>('SELECT id, name FROM site ORDER BY id');
  return result.rows;
}

/** Inserts the patient, or updates demographics of an existing one. Moving a patient to another site is refused. */
export async function upsertPatient(db: Queryable, patient: Patient): Promise<void> {
  const result = await db.query<{ site_id: string }>(
    `INSERT INTO patient (id, site_id, birth_date, sex, deceased_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET
       birth_date = COALESCE(EXCLUDED.birth_date, patient.birth_date),
       sex = COALESCE(EXCLUDED.sex, patient.sex),
       deceased_at = COALESCE(EXCLUDED.deceased_at, patient.deceased_at)
     WHERE patient.site_id = EXCLUDED.site_id
     RETURNING site_id`,
    [patient.id, patient.siteId, patient.birthDate, patient.sex, patient.deceasedAt],
  );
  if (result.rows.length === 0) {
    throw new Error(`patient ${patient.id} already belongs to another site; refusing to move it to ${patient.siteId}`);
  }
}

const PATIENT_COLUMNS = `id, site_id AS "siteId", to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", sex,
  deceased_at AS "deceasedAt"`;

export async function getPatient(db: Queryable, id: string): Promise<Patient | undefined> {
  const result = await db.query<Patient>(`SELECT ${PATIENT_COLUMNS} FROM patient WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row && { ...row, deceasedAt: isoOrNull(row.deceasedAt) };
}

export async function listPatients(db: Queryable, siteIds?: readonly string[]): Promise<Patient[]> {
  const result =
    siteIds === undefined
      ? await db.query<Patient>(`SELECT ${PATIENT_COLUMNS} FROM patient ORDER BY id`)
      : await db.query<Patient>(`SELECT ${PATIENT_COLUMNS} FROM patient WHERE site_id = ANY($1) ORDER BY id`, [
          siteIds,
        ]);
  return result.rows.map((row) => ({ ...row, deceasedAt: isoOrNull(row.deceasedAt) }));
}

const MEASUREMENT_COLUMNS = [
  'patient_id',
  'concept',
  'value',
  'unit',
  'effective_start',
  'effective_end',
  'source',
  'record_id',
  'original_value',
  'original_unit',
] as const;

/** Rows per INSERT statement: 10 parameters a row keeps a batch under PostgreSQL's 65535-parameter limit. */
const BATCH_ROWS = 5000;

/**
 * Appends measurements; a measurement whose provenance (source, record id, concept) is already
 * stored is skipped, so re-importing a file stores nothing new. Returns the number inserted.
 */
export async function insertMeasurements(db: Queryable, measurements: readonly NewMeasurement[]): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < measurements.length; start += BATCH_ROWS) {
    const batch = measurements.slice(start, start + BATCH_ROWS);
    const params: unknown[] = [];
    const tuples = batch.map((m) => {
      const base = params.length;
      params.push(
        m.patientId,
        m.concept,
        m.value,
        m.unit,
        m.effectiveStart,
        m.effectiveEnd ?? null,
        m.source,
        m.recordId,
        m.originalValue ?? null,
        m.originalUnit ?? null,
      );
      return `(${MEASUREMENT_COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    const result = await db.query(
      `INSERT INTO measurement (${MEASUREMENT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
       ON CONFLICT ON CONSTRAINT measurement_provenance_key DO NOTHING`,
      params,
    );
    inserted += result.affectedRows;
  }
  return inserted;
}

export interface MeasurementQuery {
  patientId: string;
  /** Only this measurement. */
  id?: number;
  concepts?: readonly string[];
  /** Inclusive lower bound on effective_start (ISO 8601). */
  from?: string;
  /** Exclusive upper bound on effective_start (ISO 8601). */
  to?: string;
  /** At most this many, oldest first. */
  limit?: number;
}

/** WHERE conditions shared by the measurement queries; `first` is the patient condition. */
function measurementFilter(
  first: { sql: string; param: unknown },
  filter: { id?: number; concepts?: readonly string[]; from?: string; to?: string },
): { where: string; params: unknown[] } {
  const params: unknown[] = [first.param];
  const conditions = [first.sql];
  const add = (sql: (placeholder: string) => string, value: unknown): void => {
    params.push(value);
    conditions.push(sql(`$${params.length}`));
  };
  if (filter.id !== undefined) add((p) => `id = ${p}`, filter.id);
  if (filter.concepts !== undefined) add((p) => `concept = ANY(${p})`, filter.concepts);
  if (filter.from !== undefined) add((p) => `effective_start >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `effective_start < ${p}`, filter.to);
  return { where: conditions.join(' AND '), params };
}

const MEASUREMENT_SELECT = `SELECT id, patient_id AS "patientId", concept, value, unit, effective_start AS "effectiveStart",
            effective_end AS "effectiveEnd", source, record_id AS "recordId",
            original_value AS "originalValue", original_unit AS "originalUnit"
       FROM measurement`;

type MeasurementRow = StoredMeasurement & { effectiveStart: Date | string; effectiveEnd: Date | string | null };

function toStoredMeasurement(row: MeasurementRow): StoredMeasurement {
  return { ...row, id: Number(row.id), effectiveStart: new Date(row.effectiveStart).toISOString(), effectiveEnd: isoOrNull(row.effectiveEnd) };
}

export async function listMeasurements(db: Queryable, query: MeasurementQuery): Promise<StoredMeasurement[]> {
  const { where, params } = measurementFilter({ sql: 'patient_id = $1', param: query.patientId }, query);
  const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
  const result = await db.query<MeasurementRow>(`${MEASUREMENT_SELECT} WHERE ${where} ORDER BY effective_start, concept, id${limit}`, params);
  return result.rows.map(toStoredMeasurement);
}

/** The patient a measurement belongs to (for site checks on measurement-level reads). */
export async function measurementPatient(db: Queryable, id: number): Promise<string | undefined> {
  const result = await db.query<{ patient_id: string }>('SELECT patient_id FROM measurement WHERE id = $1', [id]);
  return result.rows[0]?.patient_id;
}

export async function countMeasurements(db: Queryable): Promise<number> {
  const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurement');
  return Number(result.rows[0]?.n ?? 0);
}

function isoOrNull(value: Date | string | null | undefined): string | null {
  return value === null || value === undefined ? null : new Date(value).toISOString();
}

/** Measurements of many patients at once (census, screening), grouped by patient id. */
export async function measurementsByPatient(
  db: Queryable,
  patientIds: readonly string[],
  options: { concepts?: readonly string[]; from?: string; to?: string } = {},
): Promise<Map<string, StoredMeasurement[]>> {
  const { where, params } = measurementFilter({ sql: 'patient_id = ANY($1)', param: patientIds }, options);
  const result = await db.query<MeasurementRow>(`${MEASUREMENT_SELECT} WHERE ${where} ORDER BY patient_id, effective_start, concept, id`, params);
  const grouped = new Map<string, StoredMeasurement[]>(patientIds.map((id) => [id, []]));
  for (const row of result.rows) grouped.get(row.patientId)?.push(toStoredMeasurement(row));
  return grouped;
}

/** What the clinical engine reads of a stored measurement: no database id, no verbatim original. */
export type MeasurementFacts = Omit<StoredMeasurement, 'id' | 'originalValue' | 'originalUnit'>;

/**
 * Epoch milliseconds of a timestamptz, truncated to the millisecond as a JavaScript Date of it
 * is (exact whether extract() returns numeric, PostgreSQL 14+, or double precision before).
 */
const epochMs = (column: string): string => `(extract(epoch FROM date_trunc('milliseconds', ${column})) * 1000)::bigint`;

const FACT_ORDER = 'ORDER BY effective_start, concept, id';

/** One patient's measurements as parallel JSON arrays, in FACT_ORDER (see measurementFactsByPatient). */
const FACT_COLUMNS = `json_build_array(
  array_agg(concept ${FACT_ORDER}), array_agg(value ${FACT_ORDER}), array_agg(unit ${FACT_ORDER}),
  array_agg(${epochMs('effective_start')} ${FACT_ORDER}), array_agg(${epochMs('effective_end')} ${FACT_ORDER}),
  array_agg(source ${FACT_ORDER}), array_agg(record_id ${FACT_ORDER}))::text`;

type FactColumns = [
  concepts: string[] | null,
  values: Array<number | string>,
  units: string[],
  startsMs: number[],
  endsMs: Array<number | null>,
  sources: string[],
  recordIds: string[],
];

/**
 * measurementsByPatient for the engine's bulk readers (the census): the same measurements in the
 * same order per patient, without the columns the engine never reads. Shaped for the embedded
 * database, where decoding a result costs per field (PGlite copies each one out of its
 * WebAssembly heap): each patient is ONE text field of JSON arrays, built by a per-patient
 * subquery on the (patient, concept, time) index whose small sorts stay in memory (one sort
 * over every patient's rows spilled to disk). For 500 patients and ~68,000 measurements that is
 * about a quarter of the time of the row-per-measurement query (bench/BENCHMARKS.md, Web).
 */
export async function measurementFactsByPatient(
  db: Queryable,
  patientIds: readonly string[],
  options: { concepts?: readonly string[]; from?: string; to?: string } = {},
): Promise<Map<string, MeasurementFacts[]>> {
  const grouped = new Map<string, MeasurementFacts[]>(patientIds.map((id) => [id, []]));
  // $1 is the list of patients the outer query walks; each subquery matches one of them.
  const { where, params } = measurementFilter({ sql: 'patient_id = wanted.id', param: [...grouped.keys()] }, options);
  const result = await db.query<{ patient_id: string; measurements: string | null }>(
    `SELECT wanted.id AS patient_id, (SELECT ${FACT_COLUMNS} FROM measurement WHERE ${where}) AS measurements
       FROM unnest($1::text[]) AS wanted(id)`,
    params,
  );
  for (const row of result.rows) {
    const list = grouped.get(row.patient_id);
    if (list === undefined || row.measurements === null) continue;
    const [concepts, values, units, startsMs, endsMs, sources, recordIds] = JSON.parse(row.measurements) as FactColumns;
    // No measurement: array_agg over no rows is NULL, so the arrays are null together.
    if (concepts === null) continue;
    // Charts record several values at one instant, and these come in time order: the text of
    // the previous instant is reused (toISOString is the dearest step here).
    let lastMs = Number.NaN;
    let lastIso = '';
    for (let i = 0; i < concepts.length; i++) {
      const startMs = startsMs[i]!;
      if (startMs !== lastMs) {
        lastMs = startMs;
        lastIso = new Date(startMs).toISOString();
      }
      const endMs = endsMs[i] ?? null;
      list.push({
        patientId: row.patient_id,
        concept: concepts[i]!,
        // A non-finite float8 is a JSON string ("NaN", "Infinity"); Number() reads it as the drivers do.
        value: Number(values[i]),
        unit: units[i]!,
        effectiveStart: lastIso,
        effectiveEnd: endMs === null ? null : new Date(endMs).toISOString(),
        source: sources[i]!,
        recordId: recordIds[i]!,
      });
    }
  }
  return grouped;
}

/** Each patient's first measurement time (the anchor of SOFA day 1), for many patients at once. */
export async function firstMeasurementTimes(db: Queryable, patientIds: readonly string[]): Promise<Map<string, string>> {
  const result = await db.query<{ patient_id: string; first: Date | string }>(
    'SELECT patient_id, min(effective_start) AS first FROM measurement WHERE patient_id = ANY($1) GROUP BY patient_id',
    [patientIds],
  );
  return new Map(result.rows.map((row) => [row.patient_id, new Date(row.first).toISOString()]));
}
