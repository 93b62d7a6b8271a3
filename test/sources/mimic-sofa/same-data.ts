/**
 * Test support: one ICU stay written three ways, as MIMIC-IV rows, as FHIR R4 resources and as
 * the measurement CSV, for the conventions where the sources differ most in how they say it:
 *
 * - an arterial and a venous blood gas (MIMIC-IV: specimen-type row 52033; FHIR: LOINC 2703-7
 *   with an arterial Specimen, 2705-2 for the venous pO2), the gas's own FiO2;
 * - GCS responses with the verbal response not assessable through an endotracheal tube
 *   (MIMIC-IV: 'No Response-ETT'; FHIR: a GCS panel whose verbal component is coded intubated);
 * - invasive ventilation (MIMIC-IV: ventilator-mode chartings; FHIR: a Procedure with a period);
 * - vasopressors running at an hour's end (inputevents; MedicationAdministration);
 * - labs linked by hospital admission (hadm_id; Observation.encounter, the ICU Encounter being
 *   partOf the hospital one), one of them in another admission;
 * - MAP, urine output, and the heart rates that anchor the hour grid.
 *
 * Patient 1, hospital admission 100 (another one: 101), ICU stay 1000 from 2150-01-01 09:20 to
 * 2150-01-03 12:00; heart rates at 01 09:30 and 02 11:45, so hour row 0 ends 01 10:00 and row hr
 * covers (09:00 + hr h, 10:00 + hr h] of day 01. Expected hourly scores (mimic-code's SQL):
 * - row 1 (10:00, 11:00]: arterial gas at 10:30, P/F 60 / 100 % = 60 during invasive ventilation
 *   (10:00-14:00) -> respiration 4; norepinephrine 0.05 running at 11:00 -> cardiovascular 3.
 * - row 2 (11:00, 12:00]: the venous gas (pO2 40) is ignored; platelets 95 at 12:00 -> 2.
 * - row 3 (12:00, 13:00]: GCS 1 + ETT + 1 -> 15 (cns 0); MAP 65 -> 1.
 * - rows 4-5: dopamine 5.1 running at 14:00 and 15:00 -> 3.
 * - row 7 (16:00, 17:00]: GCS 5 + 4 + 3 = 12 -> 2.
 * - creatinine 6.0 at 13:00 belongs to admission 101: not this stay's.
 * - row 23 (02 08:00, 09:00]: urine 100 mL charted at 02 09:00, the first charting, covering the
 *   23.5 h since the first heart rate -> 102 mL / 24 h -> renal 4.
 */
import { ITEM } from '../../../src/sources/mimic/sofa/tables.ts';
import { parseMimicTime } from '../../../src/sources/mimic/sofa/read.ts';
import { MimicRows } from './mimic-rows.ts';

const t = (text: string): number => {
  const ms = parseMimicTime(`2150-01-${text}`);
  if (ms === null) throw new Error(`bad time ${text}`);
  return ms;
};
/** FHIR / CSV instant of a MIMIC-IV time (MIMIC-IV's zone-less times read as UTC). */
const iso = (text: string): string => `2150-01-${text.replace(' ', 'T')}Z`;

export const SAME_STAY = 1000;

export function sameDataMimic(): MimicRows {
  const rows = new MimicRows();
  const chart = (itemid: number, at: string, value: string | null, valuenum: number | null) =>
    rows.addChart({ subjectId: 1, stayId: SAME_STAY, charttime: t(at), storetime: null, itemid, value: value ?? String(valuenum), valuenum });
  const lab = (itemid: number, at: string, specimenId: string, value: string | null, valuenum: number | null, hadmId = 100) =>
    rows.addLab({ subjectId: 1, hadmId, specimenId, itemid, charttime: t(at), value: value ?? String(valuenum), valuenum });
  rows.addIcuStay({ subjectId: 1, hadmId: 100, stayId: SAME_STAY, intime: t('01 09:20:00'), outtime: t('03 12:00:00') });
  chart(ITEM.heartRate, '01 09:30:00', null, 80);
  chart(ITEM.heartRate, '02 11:45:00', null, 80);
  // Arterial gas (type row after the values) and venous gas.
  lab(ITEM.bgPo2, '01 10:30:00', '501', null, 60);
  lab(ITEM.bgFio2, '01 10:30:00', '501', null, 100);
  lab(ITEM.bgSpecimen, '01 10:30:00', '501', 'ART.', null);
  lab(ITEM.bgSpecimen, '01 11:30:00', '502', 'VEN.', null);
  lab(ITEM.bgPo2, '01 11:30:00', '502', null, 40);
  // Invasive ventilation 10:00-14:00.
  chart(ITEM.ventilatorMode, '01 10:00:00', 'CMV', null);
  chart(ITEM.ventilatorMode, '01 14:00:00', 'CMV', null);
  // GCS.
  chart(ITEM.gcsVerbal, '01 12:30:00', 'No Response-ETT', null);
  chart(ITEM.gcsMotor, '01 12:30:00', null, 1);
  chart(ITEM.gcsEyes, '01 12:30:00', null, 1);
  chart(ITEM.gcsMotor, '01 16:30:00', null, 5);
  chart(ITEM.gcsVerbal, '01 16:30:00', null, 4);
  chart(ITEM.gcsEyes, '01 16:30:00', null, 3);
  chart(220181, '01 12:15:00', null, 65);
  // Vasopressors.
  rows.addInput({ stayId: SAME_STAY, starttime: t('01 10:30:00'), endtime: t('01 11:00:00'), itemid: ITEM.norepinephrine, rate: 0.05, rateuom: 'mcg/kg/min', patientweight: 80 });
  rows.addInput({ stayId: SAME_STAY, starttime: t('01 13:30:00'), endtime: t('01 15:00:00'), itemid: ITEM.dopamine, rate: 5.1, rateuom: 'mcg/kg/min', patientweight: 80 });
  // Labs: this admission, and another one.
  lab(ITEM.platelets, '01 12:00:00', '601', null, 95);
  lab(ITEM.creatinine, '01 13:00:00', '602', null, 6.0, 101);
  rows.addOutput({ stayId: SAME_STAY, charttime: t('02 09:00:00'), itemid: 226559, value: 100 });
  return rows;
}

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const subject = { reference: 'Patient/1' };
const icu = { reference: `Encounter/${SAME_STAY}` };
const hospital = { reference: 'Encounter/100' };

function observation(id: string, code: string, at: string, value: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: LOINC, code }] }, subject, effectiveDateTime: iso(at), ...value, ...extra };
}
const quantity = (value: number, code: string) => ({ valueQuantity: { value, unit: code, system: UCUM, code } });
const response = (code: string, value: Record<string, unknown>) => ({ code: { coding: [{ system: LOINC, code }] }, ...value });

/** The same stay as FHIR resources (one per NDJSON line). */
export function sameDataFhir(): Array<Record<string, unknown>> {
  return [
    { resourceType: 'Patient', id: '1' },
    { resourceType: 'Encounter', id: '100', status: 'finished', class: { code: 'IMP', display: 'inpatient encounter' }, subject, period: { start: iso('01 08:00:00'), end: iso('05 12:00:00') } },
    { resourceType: 'Encounter', id: '101', status: 'finished', class: { code: 'IMP', display: 'inpatient encounter' }, subject, period: { start: iso('01 12:30:00'), end: iso('01 13:30:00') } },
    {
      resourceType: 'Encounter',
      id: String(SAME_STAY),
      status: 'finished',
      class: { code: 'ACUTE', display: 'inpatient acute' },
      type: [{ text: 'ICU' }],
      subject,
      partOf: hospital,
      period: { start: iso('01 09:20:00'), end: iso('03 12:00:00') },
    },
    { resourceType: 'Specimen', id: 'gas-art', subject, type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0487', code: 'BLDA' }] } },
    { resourceType: 'Specimen', id: 'gas-ven', subject, type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0487', code: 'BLDV' }] } },
    observation('hr1', '8867-4', '01 09:30:00', quantity(80, '/min'), { encounter: icu }),
    observation('hr2', '8867-4', '02 11:45:00', quantity(80, '/min'), { encounter: icu }),
    // The arterial gas: PaO2 and the FiO2 of the same specimen; the venous pO2 (2705-2) is not PaO2.
    observation('po2-art', '2703-7', '01 10:30:00', quantity(60, 'mm[Hg]'), { encounter: hospital, specimen: { reference: 'Specimen/gas-art' } }),
    observation('fio2-art', '3150-0', '01 10:30:00', quantity(100, '%'), { encounter: hospital, specimen: { reference: 'Specimen/gas-art' } }),
    observation('po2-ven', '2705-2', '01 11:30:00', quantity(40, 'mm[Hg]'), { encounter: hospital, specimen: { reference: 'Specimen/gas-ven' } }),
    {
      resourceType: 'Procedure',
      id: 'vent',
      status: 'completed',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '1258985005' }] },
      subject,
      encounter: icu,
      performedPeriod: { start: iso('01 10:00:00'), end: iso('01 14:00:00') },
    },
    // GCS panels: 8T (the total as charted, the verbal response coded intubated), then 12.
    observation('gcs1', '9269-2', '01 12:30:00', { valueInteger: 3 }, {
      encounter: icu,
      component: [
        response('9270-0', { valueCodeableConcept: { coding: [{ system: 'https://immunoguide.org/fhir/CodeSystem/concept', code: 'gcs-verbal-intubated' }] } }),
        response('9268-4', { valueInteger: 1 }),
        response('9267-6', { valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA6553-2', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/itemWeight', valueDecimal: 1 }] }] } }),
      ],
    }),
    observation('gcs2', '9269-2', '01 16:30:00', { valueInteger: 12 }, {
      encounter: icu,
      component: [response('9268-4', { valueInteger: 5 }), response('9270-0', { valueInteger: 4 }), response('9267-6', { valueInteger: 3 })],
    }),
    observation('map1', '8478-0', '01 12:15:00', quantity(65, 'mm[Hg]'), { encounter: icu }),
    observation('plt1', '777-3', '01 12:00:00', quantity(95, '10*3/uL'), { encounter: hospital }),
    observation('crea1', '2160-0', '01 13:00:00', quantity(6.0, 'mg/dL'), { encounter: { reference: 'Encounter/101' } }),
    observation('uo1', '9187-6', '02 09:00:00', quantity(100, 'mL'), { encounter: icu }),
    medication('ne1', '7512', '01 10:30:00', '01 11:00:00', 0.05),
    medication('dopa1', '3628', '01 13:30:00', '01 15:00:00', 5.1),
  ];
}

function medication(id: string, rxnorm: string, from: string, to: string, rate: number): Record<string, unknown> {
  return {
    resourceType: 'MedicationAdministration',
    id,
    status: 'completed',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: rxnorm }] },
    subject,
    context: icu,
    effectivePeriod: { start: iso(from), end: iso(to) },
    dosage: { rateQuantity: { value: rate, unit: 'ug/kg/min', system: UCUM, code: 'ug/kg/min' } },
  };
}

/**
 * The same stay as the measurement CSV, which names no stay or admission: the patient is one stay
 * (patient_id 1000 so the rows carry the same stay_id), every lab counts for it, so the creatinine
 * of the other admission is left out; a gas is its pO2 and the FiO2 charted with it; the 8T GCS is
 * written as the 15 mimic-code scores it.
 */
export function sameDataCsv(): string {
  const line = (at: string, concept: string, value: number, unit: string, end = '') => `1000,${iso(at)},${concept},${value},${unit},${end === '' ? '' : iso(end)}`;
  return `${[
    'patient_id,time,concept,value,unit,end_time',
    line('01 09:30:00', 'heart_rate', 80, '/min'),
    line('02 11:45:00', 'heart_rate', 80, '/min'),
    line('01 10:30:00', 'pao2', 60, 'mm[Hg]'),
    line('01 10:30:00', 'fio2', 100, '%'),
    line('01 10:00:00', 'mechanical_ventilation', 1, '', '01 14:00:00'),
    line('01 12:30:00', 'gcs', 15, ''),
    line('01 16:30:00', 'gcs_motor', 5, ''),
    line('01 16:30:00', 'gcs_verbal', 4, ''),
    line('01 16:30:00', 'gcs_eyes', 3, ''),
    line('01 12:15:00', 'map', 65, 'mm[Hg]'),
    line('01 12:00:00', 'platelets', 95, '10*3/uL'),
    line('02 09:00:00', 'urine_output', 100, 'mL'),
    line('01 10:30:00', 'norepinephrine', 0.05, 'ug/kg/min', '01 11:00:00'),
    line('01 13:30:00', 'dopamine', 5.1, 'ug/kg/min', '01 15:00:00'),
  ].join('\n')}\n`;
}
