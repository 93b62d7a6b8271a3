/**
 * Recognising the targeted drugs of the ImmunoSep protocol (CLINICAL.md section 3) in an EHR's
 * draft MedicationRequest, and coding the MedicationRequest we propose.
 *
 * The codes are the concept dictionary's study-drug entries (`medications.anakinra`,
 * `medications.interferon_gamma` in src/sources/concepts/dictionary.json, extended by a site's
 * IMMUNOGUIDE_CONCEPTS_FILE), so adding a local code is a data change. Matching is by code first
 * (RxNorm, SNOMED CT, ATC or local), then by text (medicationCodeableConcept.text, coding
 * display, a contained Medication), so an order typed as "Kineret 100 mg" is still recognised.
 */
import type { CodeableConcept, Coding, FhirResource, MedicationRequest } from 'fhir/r4.js';
import type { DrugName } from '../../clinical/therapy.ts';
import type { ConceptDictionary } from '../../sources/concepts/dictionary.ts';

export const SNOMED = 'http://snomed.info/sct';

export interface TargetedDrug {
  drug: DrugName;
  /** Id of the study drug in the dictionary's `medications`. */
  dictionaryId: string;
  /** How the card names it. */
  label: string;
  /** Words that identify it in free text, besides the dictionary's drug names. */
  textPatterns: readonly RegExp[];
}

export const TARGETED_DRUGS: readonly TargetedDrug[] = [
  { drug: 'anakinra', dictionaryId: 'anakinra', label: 'anakinra', textPatterns: [/\banakinra\b/i, /\bkineret\b/i] },
  {
    drug: 'interferon-gamma-1b',
    dictionaryId: 'interferon_gamma',
    label: 'interferon-gamma',
    // "interferon gamma", "interferon-gamma-1b", "IFN-gamma", "IFN-γ", brands Actimmune / Imukin.
    textPatterns: [/\binterferon[\s-]*(gamma|γ)/i, /\bifn[\s-]*(gamma|γ|g)\b/i, /\bactimmune\b/i, /\bimukin\b/i],
  },
];

export interface DrugMatch {
  drug: TargetedDrug;
  /** How it was recognised, for the card's explanation. */
  matchedBy: string;
}

/** The targeted drug a resource orders, if any (MedicationRequest only). */
export function targetedDrugIn(resource: FhirResource, dictionary: ConceptDictionary): DrugMatch | null {
  if (resource.resourceType !== 'MedicationRequest') return null;
  const concepts = medicationConcepts(resource);
  for (const concept of concepts) {
    for (const coding of concept.coding ?? []) {
      if (coding.system === undefined || coding.code === undefined) continue;
      const match = dictionary.medicationForCode(coding.system, coding.code);
      const drug = match?.kind === 'medication' ? TARGETED_DRUGS.find((d) => d.dictionaryId === match.id) : undefined;
      if (drug) return { drug, matchedBy: `code ${coding.system}|${coding.code}` };
    }
  }
  for (const drug of TARGETED_DRUGS) {
    const names = (dictionary.data.medications[drug.dictionaryId]?.mimicDrugNames ?? []).map((n) => n.toLowerCase());
    for (const concept of concepts) {
      const texts = [concept.text, ...(concept.coding ?? []).map((c) => c.display)].filter((t): t is string => typeof t === 'string');
      const hit = texts.find((text) => drug.textPatterns.some((p) => p.test(text)) || names.some((n) => text.toLowerCase().includes(n)));
      if (hit !== undefined) return { drug, matchedBy: `text "${hit.slice(0, 80)}"` };
    }
  }
  return null;
}

/** The codings we put on a proposed MedicationRequest: the dictionary's exact codes of the drug. */
export function proposalCodings(drug: DrugName, dictionary: ConceptDictionary): Coding[] {
  const entry = TARGETED_DRUGS.find((d) => d.drug === drug);
  const medication = entry ? dictionary.data.medications[entry.dictionaryId] : undefined;
  return (medication?.medication ?? [])
    .filter((c) => c.match !== 'prefix')
    .map((c) => ({ system: dictionary.systemUri(c.system), code: c.code, ...(c.display ? { display: c.display } : {}) }));
}

/** The medication of a request: its CodeableConcept, or a contained Medication's code. */
function medicationConcepts(request: MedicationRequest): CodeableConcept[] {
  const concepts: CodeableConcept[] = [];
  if (request.medicationCodeableConcept) concepts.push(request.medicationCodeableConcept);
  const reference = request.medicationReference?.reference;
  if (reference?.startsWith('#')) {
    const contained = request.contained?.find((r) => r.resourceType === 'Medication' && r.id === reference.slice(1));
    if (contained?.resourceType === 'Medication' && contained.code) concepts.push(contained.code);
  }
  if (request.medicationReference?.display) concepts.push({ text: request.medicationReference.display });
  return concepts;
}
