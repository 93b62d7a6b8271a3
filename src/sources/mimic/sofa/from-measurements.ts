/**
 * mimic-code's hourly SOFA (preset `mimic-iv`) on canonical measurements from any source: a
 * patient imported from FHIR, from the measurement CSV or from MIMIC-IV tables through the
 * canonical importer (../parse.ts) scores the same as the MIMIC-IV tables read directly
 * (read.ts) when the data are the same (issue 10, third point).
 *
 * The measurements (and the ICU stays and hospital admissions the import yields) are turned back
 * into the rows mimic-code reads and fed to the same collector (tables.ts, through its public
 * add* methods), so every convention is the one hourly.ts applies to the tables: nothing here
 * scores. What each concept becomes:
 * - heart_rate: a heart-rate charting (220045) of its ICU stay: the hour grid and the urine clock.
 * - map: a MAP charting; gcs_motor / gcs_verbal / gcs_eyes: the GCS responses (a verbal
 *   response flagged gcsVerbalIntubated is charted 'No Response-ETT'); a gcs total at a time of
 *   its stay with no response charted is split into three responses that sum to it.
 * - pao2 (arterial; a context.specimen of other blood is skipped): a blood-gas specimen typed
 *   'ART.'; an fio2 with a context.specimenId is the FiO2 of that gas (50816), any other fio2 a
 *   charted FiO2 (223835). FiO2 keeps the number the source wrote when it was a percent or
 *   unitless, so bg.sql's cleaning sees what MIMIC-IV holds.
 * - platelets, bilirubin, creatinine: lab specimens (one per context.specimenId, else one each)
 *   of the measurement's hospital admission.
 * - norepinephrine, epinephrine, dopamine, dobutamine: infusions (time .. endTime) in ug/kg/min.
 * - urine_output at its charting time (endTime of an interval); gu_irrigant_in / _out as the
 *   irrigant items (urine_output.sql nets them).
 * - oxygen_device, ventilator_mode, o2_flow: O2 device, ventilator mode and O2 flow chartings
 *   (a device's context.sourceText, else a representative text of its RESPIRATORY_SUPPORT code;
 *   context.recordedAt as the storetime). mechanical_ventilation (FHIR Procedure / DeviceUseStatement, the CSV) becomes
 *   invasive ventilator-mode chartings at its start, every 12 h and at its end (a value 0: an O2
 *   device 'None' with a flow), unless the same source record gave an oxygen_device or
 *   ventilator_mode (the MIMIC-IV importer derives the flag from them).
 *
 * Links, as mimic-code makes them:
 * - ICU stays are the StayRecords of kind 'icu'. A measurement belongs to the stay its
 *   context.stayId names, else to the ICU stay its context.encounterId names; one that names only
 *   a hospital admission belongs to none (as a MIMIC-IV row without stay_id). A measurement with
 *   no encounter at all belongs to the patient's only ICU stay, or to the one whose stay period
 *   holds its time. A patient without any ICU stay (the measurement CSV has none) is one stay of
 *   its own, spanning its measurements, to which every one of its measurements belongs.
 * - Labs link by hospital admission (complete_blood_count / enzyme / chemistry by hadm_id): the
 *   encounter a lab names is the admission, or, when it names an ICU stay, that stay's admission
 *   (StayRecord.admissionId; an ICU stay without one is its own admission). A lab without an
 *   encounter counts for no stay (mimic-code drops labs without hadm_id), except in a stay of
 *   its own (above).
 * - Blood gases and charted FiO2 link by patient.
 * Measurements of SOFA concepts that link to no stay are counted in `unlinked`.
 *
 * Ids: mimic-code's ids are integers. A stay, admission or patient whose id (after "stay/",
 * "hadm/" or "Encounter/") is a whole number keeps it, so MIMIC-IV stays keep their stay_id;
 * other ids are numbered below zero in the order of their names. `stayLabel` gives the id the
 * output prints.
 */
import { parseInstant } from '../../../clinical/instant.ts';
import type { SofaMeasurement } from '../../../clinical/sofa/types.ts';
import { type Concept, RESPIRATORY_SUPPORT } from '../../../clinical/types.ts';
import type { StayRecord } from '../../import-format.ts';
import { type MimicSofaHour, hourCsvLine } from './hourly.ts';
import { HOUR_MS, ITEM, MimicSofaTables } from './tables.ts';

/** The concepts mimic-code's SOFA reads (measurements of other concepts are ignored). */
export const MIMIC_SOFA_CONCEPTS: ReadonlySet<Concept> = new Set<Concept>([
  'heart_rate',
  'map',
  'gcs',
  'gcs_motor',
  'gcs_verbal',
  'gcs_eyes',
  'pao2',
  'fio2',
  'platelets',
  'bilirubin',
  'creatinine',
  'norepinephrine',
  'epinephrine',
  'dopamine',
  'dobutamine',
  'urine_output',
  'gu_irrigant_in',
  'gu_irrigant_out',
  'oxygen_device',
  'ventilator_mode',
  'o2_flow',
  'mechanical_ventilation',
]);

export interface CanonicalSofaInput {
  /** Canonical measurements (values in their concept's canonical unit), with their context. */
  measurements: readonly SofaMeasurement[];
  /** ICU stays and hospital admissions (StayRecords of an import). */
  stays: readonly StayRecord[];
}

export interface CanonicalMimicSofaTables {
  tables: MimicSofaTables;
  /** The id the output prints for a stay of `tables` (its StayRecord id without "stay/" / "Encounter/"; a patient id for a stay of its own). */
  stayLabel(stayId: number): string;
  /** The patient id of a subject of `tables`. */
  patientId(subjectId: number): string;
  /** Patients scored as one stay of their own (no ICU stay in the input). */
  implicitStays: string[];
  /** Measurements of SOFA concepts that belong to no stay (or no admission, for labs), by concept. */
  unlinked: Map<Concept, number>;
}

const VASOPRESSOR_ITEM: Partial<Record<Concept, number>> = {
  norepinephrine: ITEM.norepinephrine,
  epinephrine: ITEM.epinephrine,
  dopamine: ITEM.dopamine,
  dobutamine: ITEM.dobutamine,
};
const LAB_ITEM: Partial<Record<Concept, number>> = { platelets: ITEM.platelets, bilirubin: ITEM.bilirubinTotal, creatinine: ITEM.creatinine };
const GCS_ITEM: Partial<Record<Concept, number>> = { gcs_motor: ITEM.gcsMotor, gcs_verbal: ITEM.gcsVerbal, gcs_eyes: ITEM.gcsEyes };
/** O2 devices as mimic-code's ventilation.sql lists them (trailing spaces included), one per category. */
const DEVICE_TEXT: Readonly<Record<number, string>> = {
  [RESPIRATORY_SUPPORT.none]: 'None',
  [RESPIRATORY_SUPPORT.supplementalOxygen]: 'Nasal cannula',
  [RESPIRATORY_SUPPORT.highFlowNasalCannula]: 'High flow nasal cannula',
  [RESPIRATORY_SUPPORT.nonInvasiveVentilation]: 'Bipap mask ',
  [RESPIRATORY_SUPPORT.invasiveVentilation]: 'Endotracheal tube',
  [RESPIRATORY_SUPPORT.tracheostomy]: 'Tracheostomy tube',
  [RESPIRATORY_SUPPORT.other]: 'Other',
};
/** An invasive ventilator mode of ventilation.sql, and a non-invasive Hamilton mode. */
const INVASIVE_MODE = 'CMV';
const NON_INVASIVE_HAMILTON_MODE = 'NIV';
/** Chartings of a ventilation interval: closer than ventilation.sql's 14 h that splits an episode. */
const VENTILATION_CHARTING_STEP_MS = 12 * HOUR_MS;

/**
 * Assigns mimic-code's integer ids: a key whose label is a whole number keeps it, the others
 * are numbered below zero in the order of their labels (so the output is ordered by label).
 */
class IdNumbers {
  readonly #labels = new Map<string, string>();
  #numbers: Map<string, number> | undefined;
  readonly #byNumber = new Map<number, string>();

  add(key: string, label: string): void {
    if (!this.#labels.has(key)) this.#labels.set(key, label);
  }

  number(key: string): number {
    this.#numbers ??= this.#assign();
    const found = this.#numbers.get(key);
    if (found === undefined) throw new Error(`internal: id ${key} was not registered`);
    return found;
  }

  label(n: number): string {
    this.#numbers ??= this.#assign();
    return this.#byNumber.get(n) ?? String(n);
  }

  #assign(): Map<string, number> {
    const numbers = new Map<string, number>();
    const used = new Set<number>();
    const others: Array<[string, string]> = [];
    for (const [key, label] of this.#labels) {
      const n = /^(0|[1-9]\d*)$/.test(label) ? Number(label) : Number.NaN;
      if (Number.isSafeInteger(n) && !used.has(n)) {
        numbers.set(key, n);
        used.add(n);
      } else others.push([key, label]);
    }
    others.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1));
    others.forEach(([key], i) => numbers.set(key, i - others.length));
    // Two keys with one label (a label taken twice) print their full keys.
    const labelCount = new Map<string, number>();
    for (const label of this.#labels.values()) labelCount.set(label, (labelCount.get(label) ?? 0) + 1);
    for (const [key, n] of numbers) {
      const label = this.#labels.get(key)!;
      this.#byNumber.set(n, labelCount.get(label)! > 1 ? key : label);
    }
    return numbers;
  }
}

/** The id a StayRecord id prints: without the "stay/", "hadm/" or "Encounter/" of the importers. */
function labelOf(id: string): string {
  const match = /^(?:stay|hadm|Encounter)\/(.+)$/.exec(id);
  return match ? match[1]! : id;
}

interface IcuStay {
  record: StayRecord;
  startMs: number | null;
  endMs: number | null;
  /** The admission key labs must name to count for this stay. */
  admission: string;
}

/** The MimicSofaTables of canonical measurements (see the file comment for what each concept becomes). */
export function mimicSofaTablesFromMeasurements(input: CanonicalSofaInput): CanonicalMimicSofaTables {
  const tables = new MimicSofaTables();
  const patients = new IdNumbers();
  const stays = new IdNumbers();
  const admissions = new IdNumbers();
  const unlinked = new Map<Concept, number>();

  // ICU stays by id and by patient; a stay's admission (its own id when it names none).
  const icuStays = new Map<string, IcuStay>();
  const staysOfPatient = new Map<string, IcuStay[]>();
  for (const record of input.stays) {
    if (record.kind !== 'icu' || icuStays.has(record.id)) continue;
    const stay: IcuStay = {
      record,
      startMs: record.start === undefined ? null : parseInstant(record.start),
      endMs: record.end === undefined ? null : parseInstant(record.end),
      admission: record.admissionId ?? record.id,
    };
    icuStays.set(record.id, stay);
    const list = staysOfPatient.get(record.patientId);
    if (list === undefined) staysOfPatient.set(record.patientId, [stay]);
    else list.push(stay);
  }

  // Patients without an ICU stay are one stay of their own, spanning their SOFA measurements.
  const implicit = new Map<string, { startMs: number; endMs: number }>();
  for (const m of input.measurements) {
    if (!MIMIC_SOFA_CONCEPTS.has(m.concept) || staysOfPatient.has(m.patientId)) continue;
    const start = parseInstant(m.time);
    const end = m.endTime === undefined ? start : parseInstant(m.endTime);
    if (start === null || end === null) continue;
    const span = implicit.get(m.patientId);
    if (span === undefined) implicit.set(m.patientId, { startMs: start, endMs: end });
    else {
      span.startMs = Math.min(span.startMs, start);
      span.endMs = Math.max(span.endMs, end);
    }
  }
  const implicitKey = (patientId: string) => `patient/${patientId}`;

  // Number every id before the first row is fed.
  for (const [id, stay] of icuStays) {
    stays.add(id, labelOf(id));
    admissions.add(stay.admission, labelOf(stay.admission));
    patients.add(stay.record.patientId, stay.record.patientId);
  }
  for (const patientId of implicit.keys()) {
    stays.add(implicitKey(patientId), patientId);
    admissions.add(implicitKey(patientId), patientId);
    patients.add(patientId, patientId);
  }
  for (const m of input.measurements) {
    if (!MIMIC_SOFA_CONCEPTS.has(m.concept)) continue;
    patients.add(m.patientId, m.patientId);
    for (const named of [m.context?.encounterId, m.context?.stayId]) {
      if (named !== undefined && !icuStays.has(named)) admissions.add(named, labelOf(named));
    }
  }

  for (const stay of icuStays.values()) {
    tables.addIcuStay({
      subjectId: patients.number(stay.record.patientId),
      hadmId: admissions.number(stay.admission),
      stayId: stays.number(stay.record.id),
      intime: stay.startMs,
      outtime: stay.endMs,
    });
  }
  for (const [patientId, span] of implicit) {
    tables.addIcuStay({
      subjectId: patients.number(patientId),
      hadmId: admissions.number(implicitKey(patientId)),
      stayId: stays.number(implicitKey(patientId)),
      intime: span.startMs,
      outtime: span.endMs,
    });
  }

  /** The ICU stay (collector number) a measurement belongs to, or null. */
  const stayOf = (m: SofaMeasurement, timeMs: number): number | null => {
    if (implicit.has(m.patientId)) return stays.number(implicitKey(m.patientId));
    const context = m.context;
    const named = context?.stayId ?? context?.encounterId;
    if (named !== undefined) {
      const stay = icuStays.get(named) ?? (context?.stayId !== undefined && context.encounterId !== undefined ? icuStays.get(context.encounterId) : undefined);
      return stay === undefined || stay.record.patientId !== m.patientId ? null : stays.number(stay.record.id);
    }
    const own = staysOfPatient.get(m.patientId);
    if (own === undefined) return null;
    if (own.length === 1) return stays.number(own[0]!.record.id);
    const holding = own.find((s) => s.startMs !== null && s.endMs !== null && timeMs >= s.startMs && timeMs <= s.endMs);
    return holding === undefined ? null : stays.number(holding.record.id);
  };
  /** The hospital admission (collector number) a lab belongs to, or null. */
  const admissionOf = (m: SofaMeasurement): number | null => {
    if (implicit.has(m.patientId)) return admissions.number(implicitKey(m.patientId));
    const named = m.context?.encounterId ?? m.context?.stayId;
    if (named === undefined) return null;
    const stay = icuStays.get(named);
    return admissions.number(stay === undefined ? named : stay.admission);
  };
  const missing = (concept: Concept): void => void unlinked.set(concept, (unlinked.get(concept) ?? 0) + 1);

  let specimenSerial = 0;
  /** A lab specimen key: the source's sample id within the patient, else one of its own. */
  const specimenKey = (m: SofaMeasurement): string =>
    m.context?.specimenId === undefined ? `\u0001${++specimenSerial}` : `${m.patientId}\u0000${m.context.specimenId}`;

  // Held until every measurement is seen: totals give way to responses charted at their time,
  // the flag to the categories of the same record.
  const gcsTotals: SofaMeasurement[] = [];
  const gcsCharted = new Set<string>();
  const ventilationFlags: SofaMeasurement[] = [];
  const categorised = new Set<string>();

  for (const m of input.measurements) {
    if (!MIMIC_SOFA_CONCEPTS.has(m.concept)) continue;
    const t = parseInstant(m.time);
    if (t === null) continue;
    const subjectId = patients.number(m.patientId);
    const value = m.value;
    switch (m.concept) {
      case 'heart_rate':
      case 'map':
      case 'gcs_motor':
      case 'gcs_verbal':
      case 'gcs_eyes': {
        const stayId = stayOf(m, t);
        if (stayId === null) {
          missing(m.concept);
          continue;
        }
        const intubated = m.concept === 'gcs_verbal' && m.qualifiers?.gcsVerbalIntubated === true;
        const itemid = m.concept === 'heart_rate' ? ITEM.heartRate : m.concept === 'map' ? ITEM.mapItems[0]! : GCS_ITEM[m.concept]!;
        tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid, value: intubated ? 'No Response-ETT' : String(value), valuenum: intubated ? null : value });
        if (GCS_ITEM[m.concept] !== undefined) gcsCharted.add(`${stayId}|${t}`);
        break;
      }
      case 'gcs':
        gcsTotals.push(m);
        continue;
      case 'pao2': {
        if (m.context?.specimen !== undefined && m.context.specimen !== 'arterial') continue;
        const specimenId = specimenKey(m);
        const hadmId = admissionOf(m);
        tables.addLab({ subjectId, hadmId, specimenId, itemid: ITEM.bgSpecimen, charttime: t, value: 'ART.', valuenum: null });
        tables.addLab({ subjectId, hadmId, specimenId, itemid: ITEM.bgPo2, charttime: t, value: String(value), valuenum: value });
        break;
      }
      case 'fio2': {
        const number = fio2AsWritten(m);
        if (m.context?.specimenId !== undefined) {
          tables.addLab({ subjectId, hadmId: admissionOf(m), specimenId: specimenKey(m), itemid: ITEM.bgFio2, charttime: t, value: String(number), valuenum: number });
        } else {
          tables.addChart({ subjectId, stayId: stayOf(m, t), charttime: t, storetime: null, itemid: ITEM.fio2Chart, value: String(number), valuenum: number });
        }
        break;
      }
      case 'platelets':
      case 'bilirubin':
      case 'creatinine': {
        const hadmId = admissionOf(m);
        if (hadmId === null) {
          missing(m.concept);
          continue;
        }
        tables.addLab({ subjectId, hadmId, specimenId: specimenKey(m), itemid: LAB_ITEM[m.concept]!, charttime: t, value: String(value), valuenum: value });
        break;
      }
      case 'norepinephrine':
      case 'epinephrine':
      case 'dopamine':
      case 'dobutamine': {
        const stayId = stayOf(m, t);
        if (stayId === null) {
          missing(m.concept);
          continue;
        }
        const end = m.endTime === undefined ? t : parseInstant(m.endTime);
        tables.addInput({ stayId, starttime: t, endtime: end, itemid: VASOPRESSOR_ITEM[m.concept]!, rate: value, rateuom: 'mcg/kg/min', patientweight: null });
        break;
      }
      case 'urine_output':
      case 'gu_irrigant_in':
      case 'gu_irrigant_out': {
        // Charted at the end of the collection interval.
        const at = m.endTime === undefined ? t : parseInstant(m.endTime);
        const stayId = at === null ? null : stayOf(m, at);
        if (stayId === null || at === null) {
          missing(m.concept);
          continue;
        }
        const itemid = m.concept === 'urine_output' ? ITEM.urineItems[0]! : m.concept === 'gu_irrigant_in' ? ITEM.urineIrrigantIn : 227489;
        tables.addOutput({ stayId, charttime: at, itemid, value });
        break;
      }
      case 'oxygen_device': {
        // The text as charted when the source kept it: devices at one time are ranked by it.
        const text = m.context?.sourceText ?? DEVICE_TEXT[value];
        if (text === undefined) continue;
        const recorded = m.context?.recordedAt === undefined ? null : parseInstant(m.context.recordedAt);
        tables.addChart({ subjectId, stayId: stayOf(m, t), charttime: t, storetime: recorded, itemid: ITEM.o2Device, value: text, valuenum: null });
        categorised.add(recordKey(m));
        break;
      }
      case 'ventilator_mode': {
        const stayId = stayOf(m, t);
        if (stayId === null) {
          missing(m.concept);
          continue;
        }
        if (value === RESPIRATORY_SUPPORT.invasiveVentilation) {
          tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid: ITEM.ventilatorMode, value: INVASIVE_MODE, valuenum: null });
        } else if (value === RESPIRATORY_SUPPORT.nonInvasiveVentilation) {
          tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid: ITEM.ventilatorModeHamilton, value: NON_INVASIVE_HAMILTON_MODE, valuenum: null });
        }
        categorised.add(recordKey(m));
        break;
      }
      case 'o2_flow': {
        const stayId = stayOf(m, t);
        if (stayId === null) {
          missing(m.concept);
          continue;
        }
        tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid: ITEM.o2Flows[0]!, value: String(value), valuenum: value });
        break;
      }
      case 'mechanical_ventilation':
        ventilationFlags.push(m);
        continue;
      default:
        continue;
    }
  }

  // GCS totals at times of their stay with no response charted: three responses that sum to it.
  for (const m of gcsTotals) {
    const t = parseInstant(m.time)!;
    const stayId = stayOf(m, t);
    if (stayId === null) {
      missing('gcs');
      continue;
    }
    if (gcsCharted.has(`${stayId}|${t}`)) continue;
    const subjectId = patients.number(m.patientId);
    const intubated = m.qualifiers?.gcsVerbalIntubated === true;
    const verbal = intubated ? 1 : Math.max(1, Math.min(5, m.value - 2));
    const motor = Math.max(1, Math.min(6, m.value - verbal - 1));
    const eyes = Math.max(1, m.value - verbal - motor);
    const chart = (itemid: number, value: string, valuenum: number | null) =>
      tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid, value, valuenum });
    chart(ITEM.gcsMotor, String(motor), motor);
    chart(ITEM.gcsEyes, String(eyes), eyes);
    chart(ITEM.gcsVerbal, intubated ? 'No Response-ETT' : String(verbal), intubated ? null : verbal);
  }

  // The ventilation flag of sources without device and mode categories.
  for (const m of ventilationFlags) {
    if (categorised.has(recordKey(m))) continue;
    const start = parseInstant(m.time)!;
    const end = m.endTime === undefined ? start : (parseInstant(m.endTime) ?? start);
    const stayId = stayOf(m, start);
    if (stayId === null) {
      missing('mechanical_ventilation');
      continue;
    }
    const subjectId = patients.number(m.patientId);
    const times: number[] = [];
    for (let t = start; t < end; t += VENTILATION_CHARTING_STEP_MS) times.push(t);
    times.push(end);
    for (const t of times) {
      if (m.value === 1) {
        tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid: ITEM.ventilatorMode, value: INVASIVE_MODE, valuenum: null });
      } else {
        // Not ventilated: a status of its own that ends an invasive episode (a device needs a flow).
        tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid: ITEM.o2Device, value: DEVICE_TEXT[RESPIRATORY_SUPPORT.none]!, valuenum: null });
        tables.addChart({ subjectId, stayId, charttime: t, storetime: null, itemid: ITEM.o2Flows[0]!, value: '0', valuenum: 0 });
      }
    }
  }

  return {
    tables,
    stayLabel: (stayId) => stays.label(stayId),
    patientId: (subjectId) => patients.label(subjectId),
    implicitStays: [...implicit.keys()],
    unlinked,
  };
}

/** The FiO2 number as the source wrote it when it wrote a percent or a unitless number (bg.sql cleans that), else the canonical fraction. */
function fio2AsWritten(m: SofaMeasurement): number {
  const reported = m.reported;
  if (reported !== undefined && ['', '1', '%'].includes(reported.unit.trim())) return reported.value;
  return m.value;
}

function recordKey(m: SofaMeasurement): string {
  return m.provenance === undefined ? `\u0000${m.patientId}|${m.time}` : `${m.provenance.source}|${m.provenance.recordId}`;
}

/** An hour row in mimic-code's CSV columns with the stay id the input names (quoted when it must be). */
export function labelledHourCsvLine(hour: MimicSofaHour, label: string): string {
  const line = hourCsvLine(hour);
  const cell = /[",\n\r]/.test(label) ? `"${label.replace(/"/g, '""')}"` : label;
  return `${cell}${line.slice(line.indexOf(','))}`;
}
