/**
 * The bedside views: GET /api/census (one row per patient of the caller's sites) and
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
}

export function censusRow(patient: Patient, assessment: PatientAssessment): CensusRow {
  const days = assessment.sofa.days;
  const trend = days.slice(-7).map((d) => d.total);
  return {
    patientId: patient.id,
    siteId: patient.siteId,
    ageYears: ageInYears(patient.birthDate, assessment.at),
    sex: patient.sex,
    deceased: patient.deceasedAt !== null && patient.deceasedAt <= assessment.at,
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
  };
}

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
    return censusRow(patient, assessPatient({ patient, measurements, at, ruleSet, sofaPreset, ...(sofaStart !== undefined ? { sofaStart } : {}) }));
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
        querystring: { ...querySchema, properties: { ...querySchema.properties, site: { type: 'string' } } },
        response: { ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as { at?: string; ruleSet?: string; site?: string };
      const at = evaluationTime(query.at);
      const ruleSet = ruleSetOrProblem(query.ruleSet);
      const principal = principalOf(request);
      const sites = query.site === undefined ? principal.sites : principal.sites.filter((s) => s === query.site);
      const patients = await listPatients(db, sites);
      auditAccess(request, { action: 'census:read', siteId: query.site ?? null, outcome: 'allowed' });
      return { at, rows: await censusRows(db, patients, at, ruleSet, app.sofaPreset) };
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
