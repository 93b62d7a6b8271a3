/**
 * The bedside views: GET /api/census (one row per patient of the caller's sites, or with
 * ?scope=current only those who look present in the ICU at `at`) and
 * GET /api/patients/:patientId/assessment (everything about one patient, explained).
 * Both come from the same pure assessment (src/clinical/assessment.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import { type PatientAssessment, ageInYears, assessPatient } from '../../clinical/assessment.ts';
import type { ImmuneRuleSet } from '../../clinical/immune/types.ts';
import type { Measurement } from '../../clinical/types.ts';
import type { Database } from '../../store/db.ts';
import { type Patient, firstMeasurementTimes, listMeasurements, listPatients, measurementFactsByPatient } from '../../store/repository.ts';
import { auditAccess, requirePatient } from '../access-audit.ts';
import { principalOf } from '../auth/plugin.ts';
import { evaluationTime, ruleSetOrProblem } from './clinical.ts';
import { errorResponses } from './schemas.ts';
import { ENGINE_CONCEPTS, toMeasurements } from './store-bridge.ts';


export function assess(patient: Patient, measurements: Measurement[], at: string, sofaPreset: string, ruleSetId?: string, sofaStart?: string): PatientAssessment {
  return assessPatient({
    patient,
    measurements,
    at,
    sofaPreset,
    ruleSet: ruleSetOrProblem(ruleSetId),
    ...(sofaStart !== undefined ? { sofaStart } : {}),
  });
}

export interface CensusRow {
  patientId: string;
  siteId: string;
  ageYears: number | null;
  sex: string | null;
  deceased: boolean;
  immuneClass: string;
  classSummary: string;
  ruleSet: { id: string; version: string };
  evidenceAgeHours: number | null;
  sofaToday: number | null;
  sofaMissing: string[];
  /** Totals of the last 7 SOFA days, oldest first (null: no SOFA that day). */
  sofaTrend: Array<number | null>;
  sepsis3: boolean | null;
  eligibility: 'eligible' | 'not-eligible' | 'incomplete' | null;
  therapy: { drug: string; description: string } | null;
  warnings: Array<{ code: string; severity: string; message: string }>;
  dataGaps: string[];
  /** The latest measurement time at or before `at` among the concepts the census reads; null: none. */
  lastDataAt: string | null;
  /** Alive at `at` with data in the CURRENT_DATA_WINDOW_HOURS before it (see isCurrent). */
  current: boolean;
}

/**
 * How recent a patient's latest measurement must be for the census to count them as in the ICU
 * now. The store has no encounters (admission, discharge), so the census infers presence from
 * data: an ICU patient has vital signs and laboratory values charted many times a day, so a day
 * without any measurement means the stay has most likely ended (discharge or transfer).
 */
export const CURRENT_DATA_WINDOW_HOURS = 24;

/**
 * Whether a patient counts as in the ICU at `at`: not deceased by then, and measured within the
 * CURRENT_DATA_WINDOW_HOURS before it (the boundary included). This is a DISPLAY filter for the
 * census, a guess from the data rather than a clinical decision: nothing clinical (classification,
 * eligibility, therapy) depends on it, and a patient left out is one click away (?scope=all).
 */
export function isCurrent(deceased: boolean, lastDataAt: string | null, at: string): boolean {
  if (deceased || lastDataAt === null) return false;
  return Date.parse(at) - Date.parse(lastDataAt) <= CURRENT_DATA_WINDOW_HOURS * 3_600_000;
}

/**
 * The latest time among these measurements, whatever their order. The census's times are the
 * store's canonical instants (toISOString: UTC, fixed width), so text order is time order and no
 * time is parsed: the census runs this over tens of thousands of measurements per request.
 */
export function latestMeasurementTime(measurements: readonly Measurement[]): string | null {
  let latest: string | null = null;
  for (const m of measurements) if (latest === null || m.time > latest) latest = m.time;
  return latest;
}

/**
 * One census row. `lastDataAt` is the patient's latest measurement at or before the assessment's
 * time, as the caller read it (the census from its bulk read; the measurements given to the
 * engine end at `at`).
 */
export function censusRow(patient: Patient, assessment: PatientAssessment, lastDataAt: string | null): CensusRow {
  const days = assessment.sofa.days;
  const trend = days.slice(-7).map((d) => d.total);
  const deceased = patient.deceasedAt !== null && patient.deceasedAt <= assessment.at;
  return {
    patientId: patient.id,
    siteId: patient.siteId,
    ageYears: ageInYears(patient.birthDate, assessment.at),
    sex: patient.sex,
    deceased,
    immuneClass: assessment.classification.class,
    classSummary: assessment.classification.summary,
    ruleSet: assessment.classification.ruleSet,
    evidenceAgeHours: assessment.evidenceAgeHours,
    sofaToday: assessment.sofa.today?.total ?? null,
    sofaMissing: assessment.sofa.today?.missing ?? [],
    sofaTrend: trend,
    sepsis3: assessment.sepsis3?.met ?? null,
    eligibility: assessment.eligibility?.status ?? null,
    therapy: assessment.therapy ? { drug: assessment.therapy.regimen.drug, description: assessment.therapy.regimen.description } : null,
    warnings: (assessment.therapy?.safety.warnings ?? []).map((w) => ({ code: w.code, severity: w.severity, message: w.message })),
    dataGaps: assessment.dataGaps,
    lastDataAt,
    current: isCurrent(deceased, lastDataAt, assessment.at),
  };
}

/** GET /api/census?scope=: `all` stays the default so existing clients keep every row. */
const CENSUS_SCOPES = ['current', 'all'] as const;
type CensusScope = (typeof CENSUS_SCOPES)[number];

const querySchema = {
  type: 'object',
  properties: {
    at: { type: 'string', description: 'evaluation time, ISO 8601 with zone (default: now)' },
    ruleSet: { type: 'string', description: 'immune rule set (default immunosep)' },
  },
  additionalProperties: false,
} as const;

/** The census rows of these patients at `at` (the route's work, also run once at start-up to warm up). */
export async function censusRows(db: Database, patients: readonly Patient[], at: string, ruleSet: ImmuneRuleSet, sofaPreset: string): Promise<CensusRow[]> {
  const ids = patients.map((p) => p.id);
  const grouped = await measurementFactsByPatient(
    db,
    ids,
    // The whole record up to `at`, as the patient page reads it: a window would change
    // Sepsis-3 (onset, cultures before admission) and eligibility for longer stays.
    { concepts: ENGINE_CONCEPTS, to: new Date(Date.parse(at) + 1).toISOString() },
  );
  // SOFA day 1 starts at each patient's first measurement, as on the patient page.
  const anchors = await firstMeasurementTimes(db, ids);
  return patients.map((patient) => {
    const sofaStart = anchors.get(patient.id);
    const measurements = toMeasurements(grouped.get(patient.id) ?? []);
    const assessment = assessPatient({ patient, measurements, at, ruleSet, sofaPreset, ...(sofaStart !== undefined ? { sofaStart } : {}) });
    return censusRow(patient, assessment, latestMeasurementTime(measurements));
  });
}

/**
 * Computes a census of up to `limit` patients and throws it away: the first census after a start
 * otherwise pays for compiling the engine and the database's query paths (about 0.4 s more for
 * 500 patients). Returns the time it took.
 */
export async function warmUpCensus(db: Database, sofaPreset: string, at: string, limit = 200): Promise<{ patients: number; ms: number }> {
  const started = performance.now();
  const patients = (await listPatients(db)).slice(0, limit);
  if (patients.length > 0) await censusRows(db, patients, at, ruleSetOrProblem(undefined), sofaPreset);
  return { patients: patients.length, ms: performance.now() - started };
}

export const assessmentRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/census',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['clinical'],
        summary: "ICU census: one assessed row per patient of the caller's sites",
        description:
          `Each row says whether the patient counts as in the ICU now (\`current\`): not deceased at \`at\` and measured within the ${CURRENT_DATA_WINDOW_HOURS} h before it (\`lastDataAt\`). ` +
          'The store has no admissions or discharges, so this is a display filter inferred from the data, not a clinical decision. ' +
          '`currentWindowHours` in the answer is that window.',
        querystring: {
          ...querySchema,
          properties: {
            ...querySchema.properties,
            site: { type: 'string' },
            scope: {
              type: 'string',
              enum: [...CENSUS_SCOPES],
              default: 'all',
              description: `all (default): every patient of the sites; current: only rows with current = true (alive, data in the last ${CURRENT_DATA_WINDOW_HOURS} h; a display filter, not a clinical decision)`,
            },
          },
        },
        response: { ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as { at?: string; ruleSet?: string; site?: string; scope?: CensusScope };
      const at = evaluationTime(query.at);
      const ruleSet = ruleSetOrProblem(query.ruleSet);
      const principal = principalOf(request);
      const sites = query.site === undefined ? principal.sites : principal.sites.filter((s) => s === query.site);
      const patients = await listPatients(db, sites);
      auditAccess(request, { action: 'census:read', siteId: query.site ?? null, outcome: 'allowed' });
      const rows = await censusRows(db, patients, at, ruleSet, app.sofaPreset);
      return { at, currentWindowHours: CURRENT_DATA_WINDOW_HOURS, rows: query.scope === 'current' ? rows.filter((row) => row.current) : rows };
    },
  );

  app.get(
    '/api/patients/:patientId/assessment',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['clinical'],
        summary: 'Everything about one patient at a time, explained: immune class, SOFA, Sepsis-3, eligibility, therapy, data gaps',
        params: { type: 'object', required: ['patientId'], properties: { patientId: { type: 'string' } } },
        querystring: querySchema,
        response: { ...errorResponses },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const query = request.query as { at?: string; ruleSet?: string };
      const at = evaluationTime(query.at);
      ruleSetOrProblem(query.ruleSet);
      const patient = await requirePatient(request, db, patientId, 'assessment:read');
      const measurements = toMeasurements(await listMeasurements(db, { patientId, to: new Date(Date.parse(at) + 1).toISOString() }));
      return { patient, assessment: assess(patient, measurements, at, app.sofaPreset, query.ruleSet) };
    },
  );
};
