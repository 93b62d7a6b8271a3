/**
 * The locked trial dataset the analysis and the report read (`immunoguide report --input
 * trial.json`): one record per randomised patient with arm, stratum, baseline, daily SOFA,
 * death, reversal and infection outcome, plus the screening summary for CONSORT. Documented in
 * docs/statistics.md. parseTrialDataset validates untrusted JSON into this shape and lists every
 * problem with its JSON path.
 *
 * The blinded projection (blindTrialDataset) is built field by field and has no field that can
 * hold an arm, so nothing added to a patient record later reaches a blinded report by accident.
 */
import {
  DEFAULT_ENDPOINT_DEFINITION,
  type DailySofaTotal,
  ENDPOINT_DEFINITIONS,
  type EndpointDefinition,
  type ReversalInput,
  validateEndpointDefinition,
} from '../clinical/endpoints.ts';
import type { TargetedClass } from '../clinical/therapy.ts';
import { type Result, err, ok } from '../clinical/types.ts';
import type { ScreeningSummary } from '../trial/screening.ts';

export const TRIAL_DATASET_FORMAT = 'immunoguide-trial/1';
export const ARMS = ['active', 'placebo'] as const;
export type Arm = (typeof ARMS)[number];
export const STRATA = ['MALS', 'immunoparalysis'] as const satisfies readonly TargetedClass[];

export interface PatientBaseline {
  ageYears: number | null;
  sex: 'female' | 'male' | null;
  /** Index infection, e.g. "community-acquired pneumonia". */
  infection: string | null;
  ferritinNgPerMl: number | null;
  hlaDrMoleculesPerMonocyte: number | null;
}

export interface TrialPatient {
  id: string;
  site: string;
  stratum: TargetedClass;
  arm: Arm;
  baseline: PatientBaseline;
  sofa: DailySofaTotal[];
  deathDay: number | null;
  lastAliveDay: number | null;
  reversal: ReversalInput | null;
  infectionResolved: boolean | null;
  /** Withdrawn after randomisation (CONSORT "discontinued"). Default false. */
  withdrawn: boolean;
  /** In the modified intention-to-treat population. Default true. */
  analysed: boolean;
}

export interface TrialInfo {
  id: string;
  title: string;
  /** The SOFA preset of the endpoint (CLINICAL.md section 6): printed in every report. */
  sofaPreset: string;
  /** Display labels of the two arms (unblinded reports only). */
  armLabels: Record<Arm, string>;
}

export interface TrialDataset {
  format: typeof TRIAL_DATASET_FORMAT;
  trial: TrialInfo;
  /** The endpoint definition the data are analysed under (a shipped id resolved to its data). */
  endpointDefinition: EndpointDefinition;
  /** Screening log summary (src/trial/screening.ts summariseScreening); null when not provided. */
  screening: ScreeningSummary | null;
  patients: TrialPatient[];
}

export interface DataProblem {
  path: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Validation of untrusted JSON
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isDay = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

class Collector {
  readonly problems: DataProblem[] = [];
  add(path: string, message: string): void {
    if (this.problems.length < 200) this.problems.push({ path, message });
  }
}

function optionalNumber(c: Collector, o: Json, key: string, path: string, min: number, max: number): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    c.add(`${path}.${key}`, `must be a number ${min}-${max} or null`);
    return null;
  }
  return v;
}

/** `patient` is the patient's path; the field paths are built only for problems. */
function parseBaseline(c: Collector, raw: unknown, patient: string): PatientBaseline {
  const path = `${patient}.baseline`;
  const o = isObject(raw) ? raw : {};
  if (raw !== undefined && !isObject(raw)) c.add(path, 'must be an object');
  const sex = o.sex ?? null;
  if (sex !== null && sex !== 'female' && sex !== 'male') c.add(`${path}.sex`, 'must be female, male or null');
  const infection = o.infection ?? null;
  if (infection !== null && typeof infection !== 'string') c.add(`${path}.infection`, 'must be a string or null');
  return {
    ageYears: optionalNumber(c, o, 'ageYears', path, 0, 130),
    sex: sex === 'female' || sex === 'male' ? sex : null,
    infection: typeof infection === 'string' ? infection : null,
    ferritinNgPerMl: optionalNumber(c, o, 'ferritinNgPerMl', path, 0, 1e7),
    hlaDrMoleculesPerMonocyte: optionalNumber(c, o, 'hlaDrMoleculesPerMonocyte', path, 0, 1e7),
  };
}

function parseSofa(c: Collector, raw: unknown, patient: string): DailySofaTotal[] {
  if (!Array.isArray(raw)) {
    c.add(`${patient}.sofa`, 'must be a list of {day, total}');
    return [];
  }
  const out: DailySofaTotal[] = [];
  for (let i = 0; i < raw.length; i++) {
    const entry: unknown = raw[i];
    if (!isObject(entry) || !isDay(entry.day) || !(entry.total === null || typeof entry.total === 'number')) {
      c.add(`${patient}.sofa[${i}]`, 'must be {day: whole number, total: number or null}');
      continue;
    }
    out.push({ day: entry.day, total: entry.total as number | null });
  }
  return out;
}

function parseReversal(c: Collector, raw: unknown, patient: string): ReversalInput | null {
  if (raw === null || raw === undefined) return null;
  const path = `${patient}.reversal`;
  if (!isObject(raw) || (raw.reversed !== 'yes' && raw.reversed !== 'no' && raw.reversed !== 'unknown')) {
    c.add(path, 'must be null or {reversed: yes|no|unknown, firstReversalAt: study day or null}');
    return null;
  }
  const first = raw.firstReversalAt ?? null;
  if (first !== null && !isDay(first)) c.add(`${path}.firstReversalAt`, 'must be a whole study day or null');
  const through = raw.assessedThroughDay ?? null;
  if (through !== null && !isDay(through)) c.add(`${path}.assessedThroughDay`, 'must be a whole study day or null');
  return { reversed: raw.reversed, firstReversalAt: isDay(first) ? first : null, assessedThroughDay: isDay(through) ? through : null };
}

function parsePatient(c: Collector, raw: unknown, path: string): TrialPatient | null {
  if (!isObject(raw)) {
    c.add(path, 'must be an object');
    return null;
  }
  const id = raw.id;
  if (typeof id !== 'string' || !ID.test(id)) c.add(`${path}.id`, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  const site = raw.site;
  if (typeof site !== 'string' || !ID.test(site)) c.add(`${path}.site`, 'must be a site identifier');
  const stratum = raw.stratum;
  if (!(STRATA as readonly unknown[]).includes(stratum)) c.add(`${path}.stratum`, `must be one of ${STRATA.join(', ')}`);
  const arm = raw.arm;
  if (!(ARMS as readonly unknown[]).includes(arm)) c.add(`${path}.arm`, `must be one of ${ARMS.join(', ')}`);
  const deathDay = raw.deathDay ?? null;
  if (deathDay !== null && !isDay(deathDay)) c.add(`${path}.deathDay`, 'must be a whole study day or null');
  const lastAliveDay = raw.lastAliveDay ?? null;
  if (lastAliveDay !== null && !isDay(lastAliveDay)) c.add(`${path}.lastAliveDay`, 'must be a whole study day or null');
  const infectionResolved = raw.infectionResolved ?? null;
  if (infectionResolved !== null && typeof infectionResolved !== 'boolean') c.add(`${path}.infectionResolved`, 'must be true, false or null');
  for (const key of ['withdrawn', 'analysed'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'boolean') c.add(`${path}.${key}`, 'must be true or false');
  }
  return {
    id: typeof id === 'string' ? id : '',
    site: typeof site === 'string' ? site : '',
    stratum: stratum as TargetedClass,
    arm: arm as Arm,
    baseline: parseBaseline(c, raw.baseline, path),
    sofa: parseSofa(c, raw.sofa, path),
    deathDay: isDay(deathDay) ? deathDay : null,
    lastAliveDay: isDay(lastAliveDay) ? lastAliveDay : null,
    reversal: parseReversal(c, raw.reversal, path),
    infectionResolved: typeof infectionResolved === 'boolean' ? infectionResolved : null,
    withdrawn: raw.withdrawn === true,
    analysed: raw.analysed !== false,
  };
}

function parseScreening(c: Collector, raw: unknown): ScreeningSummary | null {
  if (raw === undefined || raw === null) return null;
  const count = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!isObject(raw) || !isObject(raw.excluded)) {
    c.add('screening', 'must be a screening summary {assessed, excluded: {...}, randomised, withdrawn} or null');
    return null;
  }
  const e = raw.excluded;
  for (const [key, value] of [
    ['assessed', raw.assessed],
    ['randomised', raw.randomised],
    ['withdrawn', raw.withdrawn],
    ['excluded.notEligible', e.notEligible],
    ['excluded.unclassified', e.unclassified],
    ['excluded.notRandomised', e.notRandomised],
  ] as const) {
    if (!count(value)) c.add(`screening.${key}`, 'must be a whole number >= 0');
  }
  const reasons = e.notEligibleByReason ?? {};
  if (!isObject(reasons) || !Object.values(reasons).every(count)) c.add('screening.excluded.notEligibleByReason', 'must map reasons to counts');
  const bySite = raw.bySite ?? {};
  return {
    assessed: raw.assessed as number,
    excluded: {
      notEligible: e.notEligible as number,
      notEligibleByReason: isObject(reasons) ? (reasons as Record<string, number>) : {},
      unclassified: e.unclassified as number,
      notRandomised: e.notRandomised as number,
    },
    randomised: raw.randomised as number,
    withdrawn: raw.withdrawn as number,
    bySite: isObject(bySite) ? (bySite as ScreeningSummary['bySite']) : {},
  };
}

function parseDefinition(c: Collector, raw: unknown): EndpointDefinition {
  if (raw === undefined || raw === null) return DEFAULT_ENDPOINT_DEFINITION;
  if (typeof raw === 'string') {
    const shipped = Object.hasOwn(ENDPOINT_DEFINITIONS, raw) ? ENDPOINT_DEFINITIONS[raw] : undefined;
    if (shipped === undefined) c.add('trial.endpointDefinition', `unknown endpoint definition "${raw}" (shipped: ${Object.keys(ENDPOINT_DEFINITIONS).join(', ')})`);
    return shipped ?? DEFAULT_ENDPOINT_DEFINITION;
  }
  const valid = validateEndpointDefinition(raw as EndpointDefinition);
  if (!valid.ok) {
    for (const p of valid.error) c.add(`trial.endpointDefinition.${p.path}`, p.message);
    return DEFAULT_ENDPOINT_DEFINITION;
  }
  return valid.value;
}

/** Validates a parsed trial.json; every problem is listed with its JSON path. */
export function parseTrialDataset(raw: unknown): Result<TrialDataset, DataProblem[]> {
  const c = new Collector();
  if (!isObject(raw)) return err([{ path: '', message: 'must be a JSON object' }]);
  if (raw.format !== TRIAL_DATASET_FORMAT) c.add('format', `must be "${TRIAL_DATASET_FORMAT}"`);
  const trial = isObject(raw.trial) ? raw.trial : {};
  if (!isObject(raw.trial)) c.add('trial', 'must be an object');
  if (typeof trial.id !== 'string' || trial.id === '') c.add('trial.id', 'must be a non-empty string');
  if (typeof trial.title !== 'string') c.add('trial.title', 'must be a string');
  if (typeof trial.sofaPreset !== 'string' || trial.sofaPreset === '') c.add('trial.sofaPreset', 'must name the SOFA preset of the endpoint');
  const labels = isObject(trial.armLabels) ? trial.armLabels : {};
  for (const arm of ARMS) if (typeof labels[arm] !== 'string' || labels[arm] === '') c.add(`trial.armLabels.${arm}`, 'must be a non-empty string');
  const endpointDefinition = parseDefinition(c, trial.endpointDefinition);
  const screening = parseScreening(c, raw.screening);
  if (!Array.isArray(raw.patients)) c.add('patients', 'must be a list');
  const patients: TrialPatient[] = [];
  const ids = new Set<string>();
  (Array.isArray(raw.patients) ? raw.patients : []).forEach((p, i) => {
    const patient = parsePatient(c, p, `patients[${i}]`);
    if (patient === null) return;
    if (ids.has(patient.id)) c.add(`patients[${i}].id`, `duplicate patient id ${patient.id}`);
    ids.add(patient.id);
    patients.push(patient);
  });
  if (c.problems.length > 0) return err(c.problems);
  return ok({
    format: TRIAL_DATASET_FORMAT,
    trial: {
      id: trial.id as string,
      title: trial.title as string,
      sofaPreset: trial.sofaPreset as string,
      armLabels: { active: labels.active as string, placebo: labels.placebo as string },
    },
    endpointDefinition,
    screening,
    patients,
  });
}

/** The JSON form of a dataset (the endpoint definition written in full, so the file is self-describing). */
export function trialDatasetJson(data: TrialDataset): unknown {
  return {
    format: data.format,
    trial: { ...data.trial, endpointDefinition: data.endpointDefinition },
    screening: data.screening,
    patients: data.patients,
  };
}

// ---------------------------------------------------------------------------------------------
// Blinded projection
// ---------------------------------------------------------------------------------------------

/** A patient as a blinded reader may see it: no arm. */
export interface BlindedTrialPatient {
  stratum: TargetedClass;
  site: string;
  baseline: PatientBaseline;
  sofa: DailySofaTotal[];
  deathDay: number | null;
  lastAliveDay: number | null;
  reversal: ReversalInput | null;
  infectionResolved: boolean | null;
  withdrawn: boolean;
  analysed: boolean;
}

export interface BlindedTrialDataset {
  trial: { id: string; title: string; sofaPreset: string };
  endpointDefinition: EndpointDefinition;
  screening: ScreeningSummary | null;
  patients: BlindedTrialPatient[];
}

/**
 * The dataset without any arm information, copied field by field (never by deleting from the
 * unblinded record). Patient ids are dropped as well, and the patients are put in a canonical
 * order (by stratum, site and their data) so not even the input order, which may follow the
 * allocation list, survives.
 */
export function blindTrialDataset(data: TrialDataset): BlindedTrialDataset {
  const patients = data.patients.map(
    (p): BlindedTrialPatient => ({
      stratum: p.stratum,
      site: p.site,
      baseline: {
        ageYears: p.baseline.ageYears,
        sex: p.baseline.sex,
        infection: p.baseline.infection,
        ferritinNgPerMl: p.baseline.ferritinNgPerMl,
        hlaDrMoleculesPerMonocyte: p.baseline.hlaDrMoleculesPerMonocyte,
      },
      sofa: p.sofa.map((s) => ({ day: s.day, total: s.total })),
      deathDay: p.deathDay,
      lastAliveDay: p.lastAliveDay,
      reversal:
        p.reversal === null
          ? null
          : { reversed: p.reversal.reversed, firstReversalAt: p.reversal.firstReversalAt, assessedThroughDay: p.reversal.assessedThroughDay ?? null },
      infectionResolved: p.infectionResolved,
      withdrawn: p.withdrawn,
      analysed: p.analysed,
    }),
  );
  const keyed = patients.map((p) => ({ key: JSON.stringify(p), p }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    trial: { id: data.trial.id, title: data.trial.title, sofaPreset: data.trial.sofaPreset },
    endpointDefinition: data.endpointDefinition,
    screening: data.screening,
    patients: keyed.map((k) => k.p),
  };
}
