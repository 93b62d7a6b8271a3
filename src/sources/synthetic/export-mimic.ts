/**
 * Writes a synthetic cohort in the published MIMIC-IV layout: hosp/ (patients, admissions,
 * labevents, microbiologyevents, prescriptions) and icu/ (icustays, chartevents, inputevents,
 * outputevents), .csv or .csv.gz, with the published column order and MIMIC-IV's own forms:
 * integer ids (subject_id = 10,000,000 + patient number), zone-less timestamps, FiO2 charted in
 * percent, ventilation as the O2 delivery device, GCS as its three components, blood gases
 * with their specimen-type row, urine as volumes charted at the end of each collection,
 * cultures with one row per organism, antibiotics as prescriptions. mHLA-DR has no MIMIC-IV
 * item: pass the site's local itemid (mapped in its concepts file) to export it.
 */
import type { Measurement } from '../../clinical/types.ts';
import { decimalRound } from '../../clinical/numeric.ts';
import { csvField } from '../csv-record.ts';
import type { SyntheticRecord } from './cohort.ts';
import type { ExportOptions, ExportReport } from './export-fhir.ts';
import { WriterSet } from './line-writer.ts';

export const MIMIC_HEADERS = {
  'hosp/patients': 'subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod',
  'hosp/admissions':
    'subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag',
  'icu/icustays': 'subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los',
  'hosp/labevents':
    'labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments',
  'icu/chartevents': 'subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning',
  'icu/inputevents':
    'subject_id,hadm_id,stay_id,caregiver_id,starttime,endtime,storetime,itemid,amount,amountuom,rate,rateuom,orderid,linkorderid,ordercategoryname,secondaryordercategoryname,ordercomponenttypedescription,ordercategorydescription,patientweight,totalamount,totalamountuom,isopenbag,continueinnextdept,statusdescription,originalamount,originalrate',
  'icu/outputevents': 'subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valueuom',
  'hosp/microbiologyevents':
    'microevent_id,subject_id,hadm_id,micro_specimen_id,order_provider_id,chartdate,charttime,spec_itemid,spec_type_desc,test_seq,storedate,storetime,test_itemid,test_name,org_itemid,org_name,isolate_num,quantity,ab_itemid,ab_name,dilution_text,dilution_comparison,dilution_value,interpretation,comments',
  'hosp/prescriptions':
    'subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,doses_per_24_hrs,route',
} as const;
type TableName = keyof typeof MIMIC_HEADERS;

export interface MimicExportOptions extends ExportOptions {
  /** Site-local labevents itemid for mHLA-DR (molecules/monocyte); without it mHLA-DR is not exported. */
  hlaDrItemid?: number;
}

/** subject_id of a synthetic patient (SYN-000123 -> 10000123). */
export function mimicSubjectId(patientId: string): string {
  const match = /^SYN-(\d+)$/.exec(patientId);
  if (!match) throw new Error(`not a synthetic patient id: ${patientId}`);
  return String(10_000_000 + Number(match[1]));
}

/** The synthetic patient id of a subject_id (inverse of mimicSubjectId). */
export function syntheticPatientId(subjectId: string): string {
  return `SYN-${String(Number(subjectId) - 10_000_000).padStart(6, '0')}`;
}

export async function exportMimicIv(records: Iterable<SyntheticRecord>, dir: string, options: MimicExportOptions = {}): Promise<ExportReport> {
  const writers = new WriterSet(dir, options.gzip === true ? '.csv.gz' : '.csv');
  const row = async (table: TableName, values: Record<string, string | number | null | undefined>): Promise<void> => {
    const writer = await writers.get(table, MIMIC_HEADERS[table]);
    await writer.line(
      MIMIC_HEADERS[table]
        .split(',')
        .map((column) => csvField(values[column]))
        .join(','),
    );
  };
  let patients = 0;
  let measurements = 0;
  let labeventId = 0;
  let specimenId = 0;
  let orderId = 0;
  let microeventId = 0;
  for (const { patient, measurements: list } of records) {
    patients++;
    measurements += list.length;
    const subject = mimicSubjectId(patient.id);
    const n = Number(subject) - 10_000_000;
    const hadm = String(20_000_000 + n);
    const stay = String(30_000_000 + n);
    const ids = { subject_id: subject, hadm_id: hadm };
    const last = list.reduce((max, m) => ((m.endTime ?? m.time) > max ? (m.endTime ?? m.time) : max), patient.admittedAt);
    const admittedYear = Number(patient.admittedAt.slice(0, 4));
    const age = admittedYear - Number(patient.birthDate.slice(0, 4));
    await row('hosp/patients', {
      subject_id: subject,
      gender: patient.sex === 'female' ? 'F' : 'M',
      anchor_age: age,
      anchor_year: admittedYear,
      anchor_year_group: '2017 - 2019',
      dod: patient.deceasedAt?.slice(0, 10),
    });
    const admittime = earliest(patient.infection.cultureAt, patient.admittedAt);
    await row('hosp/admissions', {
      ...ids,
      admittime: ts(admittime),
      dischtime: ts(patient.deceasedAt ?? last),
      deathtime: patient.deceasedAt ? ts(patient.deceasedAt) : null,
      admission_type: 'EW EMER.',
      admission_location: 'EMERGENCY ROOM',
      discharge_location: patient.deceasedAt ? 'DIED' : 'HOME',
      insurance: 'Other',
      language: 'ENGLISH',
      race: 'UNKNOWN',
      hospital_expire_flag: patient.deceasedAt ? 1 : 0,
    });
    const los = (Date.parse(last) - Date.parse(patient.admittedAt)) / 86_400_000;
    await row('icu/icustays', {
      ...ids,
      stay_id: stay,
      first_careunit: 'Medical Intensive Care Unit (MICU)',
      last_careunit: 'Medical Intensive Care Unit (MICU)',
      intime: ts(patient.admittedAt),
      outtime: ts(last),
      los: decimalRound(los),
    });
    const weight = list.find((m) => m.concept === 'weight');
    const lab = async (m: Measurement, itemid: number, value: number, unit: string, specimen = ++specimenId): Promise<void> => {
      await row('hosp/labevents', {
        labevent_id: ++labeventId,
        ...ids,
        specimen_id: specimen,
        itemid,
        charttime: ts(m.time),
        storetime: ts(m.time),
        value: String(value),
        valuenum: value,
        valueuom: unit,
        priority: 'ROUTINE',
      });
    };
    const chart = async (m: Measurement, itemid: number, value: string, valuenum: number | null, unit: string | null): Promise<void> => {
      await row('icu/chartevents', { ...ids, stay_id: stay, caregiver_id: 1, charttime: ts(m.time), storetime: ts(m.time), itemid, value, valuenum, valueuom: unit, warning: 0 });
    };
    for (const m of list) {
      switch (m.concept) {
        case 'weight':
          await chart(m, 226512, String(m.value), m.value, 'kg');
          break;
        case 'ferritin':
          await lab(m, 50924, m.value, 'ng/mL');
          break;
        case 'hla_dr':
          if (options.hlaDrItemid !== undefined) await lab(m, options.hlaDrItemid, m.value, 'molecules/cell');
          break;
        case 'platelets':
          await lab(m, 51265, m.value, 'K/uL');
          break;
        case 'bilirubin':
          await lab(m, 50885, m.value, 'mg/dL');
          break;
        case 'creatinine':
          await lab(m, 50912, m.value, 'mg/dL');
          break;
        case 'neutrophils':
          await lab(m, 52075, m.value, 'K/uL');
          break;
        case 'lactate':
          await lab(m, 50813, m.value, 'mmol/L');
          break;
        case 'pao2': {
          // A blood gas: the specimen-type row and the pO2 row share a specimen_id.
          const specimen = ++specimenId;
          await row('hosp/labevents', { labevent_id: ++labeventId, ...ids, specimen_id: specimen, itemid: 52033, charttime: ts(m.time), storetime: ts(m.time), value: 'ART.', priority: 'STAT' });
          await lab(m, 50821, m.value, 'mm Hg', specimen);
          break;
        }
        case 'fio2': {
          const percent = decimalRound(m.value * 100);
          await chart(m, 223835, String(percent), percent, '%');
          break;
        }
        case 'mechanical_ventilation':
          await chart(m, 226732, m.value === 1 ? 'Endotracheal tube' : 'None', null, null);
          break;
        case 'map':
          await chart(m, 220052, String(m.value), m.value, 'mmHg');
          // An item outside the dictionary, as real extracts are full of them (respiratory rate).
          await chart(m, 220210, '18', 18, 'insp/min');
          break;
        case 'gcs': {
          const motor = Math.min(6, m.value - 2);
          const rest = m.value - motor;
          const verbal = Math.min(5, rest - 1);
          const eyes = rest - verbal;
          await chart(m, 220739, String(eyes), eyes, null);
          await chart(m, 223900, String(verbal), verbal, null);
          await chart(m, 223901, String(motor), motor, null);
          break;
        }
        case 'norepinephrine': {
          const end = m.endTime ?? m.time;
          const minutes = (Date.parse(end) - Date.parse(m.time)) / 60_000;
          const kg = weight?.value ?? 80;
          const order = ++orderId;
          await row('icu/inputevents', {
            ...ids,
            stay_id: stay,
            caregiver_id: 1,
            starttime: ts(m.time),
            endtime: ts(end),
            storetime: ts(end),
            itemid: 221906,
            amount: decimalRound((m.value * kg * minutes) / 1000),
            amountuom: 'mg',
            rate: m.value,
            rateuom: 'mcg/kg/min',
            orderid: order,
            linkorderid: order,
            ordercategoryname: '01-Drips',
            ordercomponenttypedescription: 'Main order parameter',
            ordercategorydescription: 'Continuous Med',
            patientweight: kg,
            totalamount: 250,
            totalamountuom: 'ml',
            isopenbag: 0,
            continueinnextdept: 0,
            statusdescription: 'FinishedRunning',
            originalamount: 4,
            originalrate: m.value,
          });
          break;
        }
        case 'urine_output':
          // Charted when the collection ends: the volume since the previous charting.
          await row('icu/outputevents', { ...ids, stay_id: stay, caregiver_id: 1, charttime: ts(m.endTime ?? m.time), storetime: ts(m.endTime ?? m.time), itemid: 226559, value: m.value, valueuom: 'ml' });
          break;
        case 'culture': {
          const specimen = ++specimenId;
          // One row per organism and antibiotic tested: one culture.
          for (const [organism, antibiotic] of [
            ['ESCHERICHIA COLI', 'CEFTRIAXONE'],
            ['ESCHERICHIA COLI', 'MEROPENEM'],
          ] as const) {
            await row('hosp/microbiologyevents', {
              microevent_id: ++microeventId,
              ...ids,
              micro_specimen_id: specimen,
              chartdate: `${ts(m.time).slice(0, 10)} 00:00:00`,
              charttime: ts(m.time),
              spec_itemid: 70012,
              spec_type_desc: 'BLOOD CULTURE',
              test_seq: 1,
              test_itemid: 90201,
              test_name: 'Blood Culture, Routine',
              org_itemid: 80002,
              org_name: organism,
              isolate_num: 1,
              ab_name: antibiotic,
              interpretation: 'S',
            });
          }
          break;
        }
        case 'antibiotic':
          await row('hosp/prescriptions', {
            ...ids,
            pharmacy_id: ++orderId,
            poe_id: `${subject}-${orderId}`,
            poe_seq: 1,
            starttime: ts(m.time),
            stoptime: ts(new Date(Date.parse(m.time) + 7 * 86_400_000).toISOString()),
            drug_type: 'MAIN',
            drug: 'Piperacillin-Tazobactam',
            prod_strength: '4.5 g Vial',
            form_rx: 'VIAL',
            dose_val_rx: '4.5',
            dose_unit_rx: 'g',
            route: 'IV',
          });
          break;
        default:
          throw new Error(`the MIMIC-IV exporter has no form for ${m.concept}`);
      }
    }
  }
  return { files: await writers.close(), patients, measurements };
}

/** "2026-01-05T08:30:00.000Z" -> "2026-01-05 08:30:00" (MIMIC-IV's zone-less timestamps). */
function ts(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function earliest(a: string, b: string): string {
  return a < b ? a : b;
}
