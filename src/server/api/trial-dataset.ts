/**
 * The trial dataset of src/stats/trial-data.ts (what `immunoguide report` reads from trial.json),
 * built from the store for the analysis and report routes: one record per patient randomised at
 * the caller's sites before the data cut-off, read in one REPEATABLE READ snapshot.
 *
 * How each field is derived (documented in docs/statistics.md, "Analysis over HTTP"):
 * - study day 1 starts at the randomisation instant (day k is [randomised + 24(k-1) h,
 *   randomised + 24k h)): the store has no separate treatment-start time, and ImmunoSep starts
 *   blinded treatment right after randomisation;
 * - daily SOFA totals from the stored measurements under the trial's SOFA preset (days 1 to
 *   15; a day with no SOFA input at all is null, not 0; days after the day of death are not
 *   scored from measurements, the endpoint scores them 24);
 * - death from the patient's deceased time; otherwise the last study day with any measurement
 *   (at least day 1: the patient was alive when randomised) is the last day known alive;
 * - reversal: the immune engine's reversal assessment of the frozen baseline classification,
 *   evaluated at the end of the reversal window, at death, or at the cut-off; while the window
 *   is still open at the cut-off a "not yet reversed" is not a "no" (time to reversal is
 *   censored at the last valid assessment instead);
 * - baseline ferritin and mHLA-DR from the frozen randomisation evidence; age at randomisation;
 * - index infection and its resolution are not in the store: null (not assessed);
 * - every randomised patient is in the analysed (mITT) population; withdrawals are flagged.
 *
 * Blinding: the blinded dataset is built from the blinded allocation query (which never reads
 * the arm) and has no field that can hold an arm; its patients are put in a canonical order
 * and carry no id. The unblinded one joins the arm, for the statistician and unblinded roles.
 */
import { ageInYears } from '../../clinical/assessment.ts';
import {
  DEFAULT_ENDPOINT_DEFINITION,
  type DailySofaTotal,
  type EndpointDefinition,
  type ReversalInput,
  reversalInputFromAssessment,
  studyDayOf,
} from '../../clinical/endpoints.ts';
import { assessReversal } from '../../clinical/immune/index.ts';
import { findImmuneRuleSet } from '../../clinical/immune/rule-sets/index.ts';
import type { ImmuneClassification } from '../../clinical/immune/types.ts';
import { SOFA_INPUT_CONCEPTS } from '../../clinical/sofa/events.ts';
import { type SofaParameters, findSofaPreset, scoreSofaDays } from '../../clinical/sofa/index.ts';
import type { TargetedClass } from '../../clinical/therapy.ts';
import { type IsoDateTime, type Measurement, type Result, err, ok } from '../../clinical/types.ts';
import {
  type BlindedTrialDataset,
  type BlindedTrialPatient,
  type PatientBaseline,
  TRIAL_DATASET_FORMAT,
  type TrialDataset,
  type TrialInfo,
  type TrialPatient,
} from '../../stats/trial-data.ts';
import { TRAJECTORY_DAYS } from '../../stats/trial-analysis.ts';
import type { Database, Queryable } from '../../store/db.ts';
import { measurementsByPatient } from '../../store/repository.ts';
import { type TrialRecord, listBlindedAllocations, listScreening, listUnblindedAllocations } from '../../store/trial.ts';
import type { TrialDefinition } from '../../trial/definition.ts';
import { summariseScreening } from '../../trial/screening.ts';
import { toMeasurements } from './store-bridge.ts';

const DAY_MS = 86_400_000;
/** Patients per measurement query (keeps one answer a bounded size). */
const CHUNK = 500;

export interface StoreDatasetOptions {
  /** The data cut-off: allocations, screening entries and measurements from this instant on are ignored. */
  asOf: IsoDateTime;
  /** Only patients randomised at these sites (the caller's sites). */
  siteIds: readonly string[];
  /** Default: the trial dataset default (immunosep-sap). */
  endpointDefinition?: EndpointDefinition;
}

/** Why no dataset can be built (e.g. the trial's SOFA preset has no implementation). */
export interface DatasetProblem {
  message: string;
}

/** The arm-free facts of one randomised patient, as read from the allocation. */
interface AllocationFacts {
  patientId: string;
  siteId: string;
  immuneClass: TargetedClass;
  randomisedAt: string;
  withdrawn: boolean;
}

/** Everything of a dataset patient except its id and arm. */
type ArmFreePatient = Omit<TrialPatient, 'id' | 'arm'>;

/** Display names of the two allocation groups in unblinded outputs, from the definition's arms. */
export function armLabels(definition: TrialDefinition): TrialInfo['armLabels'] {
  const ids = (allocation: 'active' | 'placebo') => [
    ...new Set(Object.values(definition.strata).flatMap((s) => (s?.arms ?? []).filter((a) => a.allocation === allocation).map((a) => a.id))),
  ];
  const active = ids('active');
  const placebo = ids('placebo');
  return {
    active: active.length === 0 ? 'active' : `active (${active.join(' / ')})`,
    placebo: placebo.length === 0 ? 'placebo' : placebo.join(' / '),
  };
}

/**
 * The trial's title in blinded outputs. The protocol title names the drugs and the placebo: public
 * knowledge, but blinded outputs are kept free of every arm word so a leak is easy to test for.
 */
export function blindedTitle(definition: TrialDefinition): string {
  return `Trial ${definition.id} (definition ${definition.version})`;
}

function sofaParameters(trial: TrialRecord): Result<SofaParameters, DatasetProblem> {
  const parameters = findSofaPreset(trial.definition.sofaPreset);
  return parameters === undefined
    ? err({ message: `the trial's SOFA preset ${trial.definition.sofaPreset} has no implementation in this version, so its daily SOFA cannot be computed` })
    : ok(parameters);
}

/** The unblinded dataset (with arms): for the statistician and unblinded roles only. */
export async function unblindedDatasetFromStore(db: Database, trial: TrialRecord, options: StoreDatasetOptions): Promise<Result<TrialDataset, DatasetProblem>> {
  const parameters = sofaParameters(trial);
  if (!parameters.ok) return parameters;
  const asOfMs = Date.parse(options.asOf);
  return snapshot(db, async (tx) => {
    const allocations = (await listUnblindedAllocations(tx, trial.id, { siteIds: options.siteIds })).filter((a) => Date.parse(a.randomisedAt) < asOfMs);
    const records = await armFreePatients(tx, trial, allocations, options, parameters.value);
    const endpointDefinition = options.endpointDefinition ?? DEFAULT_ENDPOINT_DEFINITION;
    return ok({
      format: TRIAL_DATASET_FORMAT,
      trial: { id: trial.id, title: trial.definition.title, sofaPreset: trial.definition.sofaPreset, armLabels: armLabels(trial.definition) },
      endpointDefinition,
      screening: await screeningSummary(tx, trial.id, options),
      patients: allocations.map((a, i): TrialPatient => {
        const r = records[i] as ArmFreePatient;
        return { id: a.patientId, site: r.site, stratum: r.stratum, arm: a.arm.allocation, ...rest(r) };
      }),
    });
  });
}

/** The blinded dataset: built from the blinded allocations, no arm read, no patient id kept. */
export async function blindedDatasetFromStore(db: Database, trial: TrialRecord, options: StoreDatasetOptions): Promise<Result<BlindedTrialDataset, DatasetProblem>> {
  const parameters = sofaParameters(trial);
  if (!parameters.ok) return parameters;
  const asOfMs = Date.parse(options.asOf);
  return snapshot(db, async (tx) => {
    const allocations = (await listBlindedAllocations(tx, trial.id, { siteIds: options.siteIds })).filter((a) => Date.parse(a.randomisedAt) < asOfMs);
    const records = await armFreePatients(tx, trial, allocations, options, parameters.value);
    const patients = records.map((r): BlindedTrialPatient => ({ stratum: r.stratum, site: r.site, ...rest(r) }));
    // Canonical order (by content), as blindTrialDataset does: not even the randomisation order survives.
    const keyed = patients.map((p) => ({ key: JSON.stringify(p), p }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return ok({
      trial: { id: trial.id, title: blindedTitle(trial.definition), sofaPreset: trial.definition.sofaPreset },
      endpointDefinition: options.endpointDefinition ?? DEFAULT_ENDPOINT_DEFINITION,
      screening: await screeningSummary(tx, trial.id, options),
      patients: keyed.map((k) => k.p),
    });
  });
}

/** The fields after stratum, in the dataset's order, copied one by one. */
function rest(r: ArmFreePatient): Omit<ArmFreePatient, 'site' | 'stratum'> {
  return {
    baseline: r.baseline,
    sofa: r.sofa,
    deathDay: r.deathDay,
    lastAliveDay: r.lastAliveDay,
    reversal: r.reversal,
    infectionResolved: r.infectionResolved,
    withdrawn: r.withdrawn,
    analysed: r.analysed,
  };
}

/** Every read of one dataset in one consistent, read-only snapshot. */
function snapshot<T>(db: Database, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return work(tx);
  });
}

async function screeningSummary(tx: Queryable, trialId: string, options: StoreDatasetOptions) {
  const asOfMs = Date.parse(options.asOf);
  const entries = (await listScreening(tx, trialId, { siteIds: options.siteIds })).filter((e) => Date.parse(e.at) < asOfMs);
  return summariseScreening(entries);
}

interface PatientRow {
  id: string;
  birth_date: string | null;
  sex: string | null;
  deceased_at: Date | string | null;
}

/** The arm-free record of every allocation, in the allocations' order. */
async function armFreePatients(
  tx: Queryable,
  trial: TrialRecord,
  allocations: readonly AllocationFacts[],
  options: StoreDatasetOptions,
  parameters: SofaParameters,
): Promise<ArmFreePatient[]> {
  const ids = allocations.map((a) => a.patientId);
  if (ids.length === 0) return [];
  const facts = new Map(
    (
      await tx.query<PatientRow>(`SELECT id, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, sex, deceased_at FROM patient WHERE id = ANY($1)`, [ids])
    ).rows.map((r) => [r.id, r]),
  );
  // The evidence frozen at randomisation (classification and eligibility): arm-free by construction.
  const evidence = new Map(
    (
      await tx.query<{ patient_id: string; evidence: { classification?: ImmuneClassification } }>(
        'SELECT patient_id, evidence FROM trial_allocation WHERE trial_id = $1 AND patient_id = ANY($2)',
        [trial.id, ids],
      )
    ).rows.map((r) => [r.patient_id, r.evidence?.classification ?? null]),
  );
  const lastSeen = new Map(
    (
      await tx.query<{ patient_id: string; last: Date | string }>(
        'SELECT patient_id, max(effective_start) AS last FROM measurement WHERE patient_id = ANY($1) AND effective_start < $2 GROUP BY patient_id',
        [ids, options.asOf],
      )
    ).rows.map((r) => [r.patient_id, new Date(r.last).getTime()]),
  );
  const concepts = [...new Set([...SOFA_INPUT_CONCEPTS, 'ferritin', 'hla_dr', 'hla_dr_percent'])];
  const measurements = new Map<string, Measurement[]>();
  for (let start = 0; start < ids.length; start += CHUNK) {
    const chunk = ids.slice(start, start + CHUNK);
    for (const [id, rows] of await measurementsByPatient(tx, chunk, { concepts, to: options.asOf })) measurements.set(id, toMeasurements(rows));
  }
  const d = options.endpointDefinition ?? DEFAULT_ENDPOINT_DEFINITION;
  return allocations.map((a) =>
    patientRecord(a, {
      facts: facts.get(a.patientId),
      classification: evidence.get(a.patientId) ?? null,
      lastSeenMs: lastSeen.get(a.patientId),
      measurements: measurements.get(a.patientId) ?? [],
      asOfMs: Date.parse(options.asOf),
      parameters,
      definition: d,
    }),
  );
}

interface PatientInputs {
  facts: PatientRow | undefined;
  classification: ImmuneClassification | null;
  lastSeenMs: number | undefined;
  measurements: Measurement[];
  asOfMs: number;
  parameters: SofaParameters;
  definition: EndpointDefinition;
}

function patientRecord(a: AllocationFacts, input: PatientInputs): ArmFreePatient {
  const day1Ms = Date.parse(a.randomisedAt);
  const deceasedMs = input.facts?.deceased_at ? new Date(input.facts.deceased_at).getTime() : null;
  const deathMs = deceasedMs !== null && deceasedMs < input.asOfMs ? deceasedMs : null;
  const deathDay = deathMs === null ? null : studyDayOf(deathMs, day1Ms);
  const lastAliveDay = deathMs === null ? studyDayOf(Math.max(day1Ms, input.lastSeenMs ?? day1Ms), day1Ms) : null;
  const sex = input.facts?.sex;
  const baseline: PatientBaseline = {
    ageYears: ageInYears(input.facts?.birth_date ?? null, a.randomisedAt),
    sex: sex === 'female' || sex === 'male' ? sex : null,
    infection: null,
    ferritinNgPerMl: evidenceValue(input.classification, 'ferritin', 'ng/mL'),
    hlaDrMoleculesPerMonocyte: evidenceValue(input.classification, 'hla_dr', '{molecules}/{cell}'),
  };
  return {
    site: a.siteId,
    stratum: a.immuneClass,
    baseline,
    sofa: dailySofa(input.measurements, day1Ms, deathDay, input),
    deathDay,
    lastAliveDay,
    reversal: reversal(input.classification, input.measurements, day1Ms, deathMs, input),
    infectionResolved: null,
    withdrawn: a.withdrawn,
    analysed: true,
  };
}

function evidenceValue(classification: ImmuneClassification | null, concept: string, unit: string): number | null {
  const inputs = classification?.evidence?.inputs ?? [];
  const found = inputs.find((i) => i.concept === concept && i.unit === unit);
  return found !== undefined && typeof found.value === 'number' && Number.isFinite(found.value) ? found.value : null;
}

/** Study days 1..15 (or the endpoint's last window day) that have begun by the cut-off, to the day of death. */
function dailySofa(measurements: readonly Measurement[], day1Ms: number, deathDay: number | null, input: PatientInputs): DailySofaTotal[] {
  const d = input.definition;
  const lastDay = Math.max(d.primaryWindow.lastDay, d.secondaryWindow.lastDay, TRAJECTORY_DAYS.lastDay);
  const begun = Math.floor((input.asOfMs - 1 - day1Ms) / DAY_MS) + 1;
  const days = Math.max(0, Math.min(lastDay, begun, deathDay ?? Number.POSITIVE_INFINITY));
  if (days === 0) return [];
  const sofaInputs = measurements.filter((m) => (SOFA_INPUT_CONCEPTS as readonly string[]).includes(m.concept));
  const scored = scoreSofaDays(sofaInputs, { parameters: input.parameters, start: new Date(day1Ms).toISOString(), days });
  // Store data are canonical by construction; a failure here is a bug, not a data problem.
  if (!scored.ok) throw new Error(`SOFA of a randomised patient: ${scored.error.message}`);
  return scored.value.days.map((day) => ({ day: day.day, total: day.missing.length === 6 ? null : day.total }));
}

function reversal(
  classification: ImmuneClassification | null,
  measurements: readonly Measurement[],
  day1Ms: number,
  deathMs: number | null,
  input: PatientInputs,
): ReversalInput | null {
  if (classification === null || (classification.class !== 'MALS' && classification.class !== 'immunoparalysis')) return null;
  const unknown: ReversalInput = { reversed: 'unknown', firstReversalAt: null, assessedThroughDay: null };
  const ruleSet = findImmuneRuleSet(classification.ruleSet?.id ?? '');
  if (ruleSet === undefined || ruleSet.version !== classification.ruleSet.version) return unknown;
  // Follow-up for reversal ends with the window, at death, or at the cut-off, whichever is first.
  const windowEndMs = day1Ms + input.definition.reversalByDay * DAY_MS;
  const endMs = Math.min(windowEndMs, deathMs ?? Number.POSITIVE_INFINITY, input.asOfMs);
  const at = new Date(endMs - 1).toISOString();
  const assessment = assessReversal(classification, measurements, at, ruleSet);
  const mapped = reversalInputFromAssessment(assessment, new Date(day1Ms).toISOString());
  if (!mapped.ok) return unknown;
  // (A death before the cut-off ends follow-up before it, so endMs is then the death.)
  const openAtCutOff = endMs === input.asOfMs && endMs < windowEndMs;
  if (mapped.value.reversed === 'no' && openAtCutOff) {
    // Not reversed yet, with days of the window still to come: not a "no" by day 15.
    return { reversed: 'unknown', firstReversalAt: null, assessedThroughDay: mapped.value.assessedThroughDay ?? null };
  }
  return mapped.value;
}
