/**
 * From the patient's data (prefetch or FHIR server) to what the cards are built from: the
 * clinical input, the assessment under the ImmunoSep rule set, the therapy safety facts, and the
 * targeted drugs already ordered or given.
 */
import { type SofaDaySummary, assessPatient, therapyFactsAt } from '../../clinical/assessment.ts';
import { type DrugName, IMMUNOSEP_THERAPY_RULES } from '../../clinical/therapy.ts';
import type { IsoDateTime, Measurement } from '../../clinical/types.ts';
import type { ConceptDictionary } from '../../sources/concepts/dictionary.ts';
import type { Evaluation } from './cards.ts';
import { clinicalInputFrom } from './clinical-input.ts';
import { TARGETED_DRUGS, targetedDrugIn } from './drugs.ts';
import type { PatientData } from './patient-data.ts';

const HOUR_MS = 3_600_000;

export interface EvaluateOptions {
  dictionary: ConceptDictionary;
  /** The evaluation time. */
  at: IsoDateTime;
  /** Daily SOFA from the measurements; default: the assessment's own. */
  sofaDays?: (measurements: readonly Measurement[], at: IsoDateTime) => SofaDaySummary[];
}

export function evaluatePatient(data: PatientData, options: EvaluateOptions): Evaluation {
  const { at, dictionary } = options;
  const input = clinicalInputFrom(data, dictionary);
  const assessment = assessPatient({
    patient: input.patient,
    measurements: input.measurements,
    at,
    ...(options.sofaDays ? { sofaDays: options.sofaDays(input.measurements, at) } : {}),
  });
  const atMs = Date.parse(at);
  const targetedOnRecord: Array<{ drug: DrugName; text: string }> = [];
  for (const request of data.medicationRequests) {
    const match = targetedDrugIn(request, dictionary);
    if (match !== null && (request.status === undefined || request.status === 'active' || request.status === 'on-hold')) {
      targetedOnRecord.push({ drug: match.drug.drug, text: `${match.drug.label} order MedicationRequest/${request.id ?? '?'} (${request.status ?? 'status not given'})` });
    }
  }
  for (const given of input.studyDrugsGiven) {
    const drug = TARGETED_DRUGS.find((d) => d.dictionaryId === given.medication);
    if (drug === undefined) continue;
    const regimen = Object.values(IMMUNOSEP_THERAPY_RULES.regimens).find((r) => r.drug === drug.drug);
    // Within the regimen's duration the drug counts as running.
    if (regimen !== undefined && atMs - Date.parse(given.time) <= regimen.durationDays * 24 * HOUR_MS) {
      targetedOnRecord.push({ drug: drug.drug, text: `${drug.label} given ${given.time}` });
      break;
    }
  }
  return {
    patientId: data.patientId,
    at,
    assessment,
    facts: therapyFactsAt(input.patient, input.measurements, at),
    data,
    unusable: input.unusable,
    conceptsSeen: input.conceptsSeen,
    targetedOnRecord,
  };
}
