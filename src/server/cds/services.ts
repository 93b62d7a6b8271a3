/**
 * The CDS services ImmunoGuide offers (discovery) and the FHIR queries they ask the EHR to
 * prefetch. The Observation codes come from the concept dictionary (src/sources/concepts, plus a
 * site's IMMUNOGUIDE_CONCEPTS_FILE), so a site that adds its local codes gets them in the
 * prefetch templates too.
 *
 * Time window: CDS Hooks 2.0 defines no prefetch token for "now", so a template cannot say "the
 * last 48 h". The templates ask for the newest results instead (`_sort=-date&_count=N`, inside
 * the spec's recommended prefetch subset) and the engine applies the rule set's validity window
 * (48 h for ImmunoSep) itself. Older results are wanted anyway: a 60-hour-old ferritin must be
 * reported as stale, not as missing. When the service queries the FHIR server itself it sends
 * the same queries, so prefetched and fetched data are equivalent (as the spec requires).
 */
import type { Coding } from 'fhir/r4.js';
import { SOFA_INPUT_CONCEPTS } from '../../clinical/sofa/events.ts';
import type { Concept } from '../../clinical/types.ts';
import type { ConceptDictionary } from '../../sources/concepts/dictionary.ts';
import type { CdsServiceDefinition } from './types.ts';

/** One prefetch key: what it is for and which concepts (for Observation keys) it carries. */
export interface PrefetchKey {
  key: string;
  purpose: string;
  resourceType: 'Patient' | 'Observation' | 'MedicationAdministration' | 'MedicationRequest' | 'Condition';
  concepts: readonly Concept[];
  template: string;
}

export interface CdsCatalog {
  services: readonly CdsServiceDefinition[];
  prefetchKeys: readonly PrefetchKey[];
  /** Concepts the engine would use but the dictionary has no FHIR code for (they cannot be prefetched). */
  uncoded: readonly Concept[];
  /** FHIR codings of a concept, with its display (for the ServiceRequests we propose). */
  codings(concept: Concept): Coding[];
}

const BIOMARKERS: readonly Concept[] = ['ferritin', 'hla_dr', 'hla_dr_percent'];
/** What the SOFA engine reads (one list, owned by the engine). */
const SOFA_INPUTS: readonly Concept[] = SOFA_INPUT_CONCEPTS;
const SAFETY_LABS: readonly Concept[] = ['neutrophils', 'creatinine', 'platelets', 'hemoglobin', 'weight'];
/** Vasopressor infusions recorded as MedicationAdministration (SOFA cardiovascular). */
const VASOPRESSORS: readonly Concept[] = ['norepinephrine', 'epinephrine', 'dopamine', 'dobutamine'];
/** Study drugs of the dictionary whose administrations are read (already on a targeted drug?). */
const STUDY_DRUGS = ['anakinra', 'interferon_gamma'];

const USAGE =
  'Send the prefetch keys, or fhirServer with fhirAuthorization (read access to Patient, Observation, MedicationRequest, Condition) so the service can fetch what is missing. ' +
  'The templates return the newest results; the service applies the 48 h biomarker validity window itself (CDS Hooks has no prefetch token for the current time).';

export const SERVICE_IDS = {
  patientView: 'immunoguide-patient-view',
  orderSelect: 'immunoguide-order-select',
  orderSign: 'immunoguide-order-sign',
} as const;

export function buildCatalog(dictionary: ConceptDictionary): CdsCatalog {
  const codings = (concept: Concept): Coding[] => {
    const entry = dictionary.data.concepts[concept];
    if (!entry) return [];
    return entry.fhir.map((c) => ({ system: dictionary.systemUri(c.system), code: c.code, display: entry.display }));
  };
  const observationTemplate = (concepts: readonly Concept[], count: number): string => {
    const tokens = [...new Set(concepts.flatMap((c) => codings(c).map((coding) => `${coding.system}|${coding.code}`)))];
    return `Observation?patient={{context.patientId}}&code=${tokens.join(',')}&_sort=-date&_count=${count}`;
  };
  const administrationTemplate = (): string => {
    const exact = (codings: ReadonlyArray<{ system: string; code: string; match?: string }> | undefined) =>
      (codings ?? []).filter((c) => c.match !== 'prefix').map((c) => `${dictionary.systemUri(c.system)}|${c.code}`);
    const tokens = [
      ...VASOPRESSORS.flatMap((c) => exact(dictionary.data.concepts[c]?.medication)),
      ...STUDY_DRUGS.flatMap((id) => exact(dictionary.data.medications[id]?.medication)),
    ];
    return `MedicationAdministration?patient={{context.patientId}}&code=${[...new Set(tokens)].join(',')}&_sort=-effective-time&_count=200`;
  };
  const prefetchKeys: PrefetchKey[] = [
    { key: 'patient', purpose: 'demographics (age, sex) for eligibility and creatinine clearance', resourceType: 'Patient', concepts: [], template: 'Patient/{{context.patientId}}' },
    {
      key: 'biomarkers',
      purpose: 'ferritin and monocyte HLA-DR (immune class; ImmunoSep validity window 48 h)',
      resourceType: 'Observation',
      concepts: BIOMARKERS,
      template: observationTemplate(BIOMARKERS, 50),
    },
    {
      key: 'sofaInputs',
      purpose: 'SOFA inputs of the last 48 h (respiration, coagulation, liver, cardiovascular, CNS, renal)',
      resourceType: 'Observation',
      concepts: SOFA_INPUTS,
      template: observationTemplate(SOFA_INPUTS, 500),
    },
    {
      key: 'safetyLabs',
      purpose: 'neutrophils, creatinine, platelets, haemoglobin, weight (safety checks of the targeted drugs)',
      resourceType: 'Observation',
      concepts: SAFETY_LABS,
      template: observationTemplate(SAFETY_LABS, 50),
    },
    {
      key: 'administrations',
      purpose: 'vasopressor infusions (SOFA cardiovascular) and targeted drugs already given',
      resourceType: 'MedicationAdministration',
      concepts: VASOPRESSORS,
      template: administrationTemplate(),
    },
    {
      key: 'medications',
      purpose: 'active medication orders',
      resourceType: 'MedicationRequest',
      concepts: [],
      template: 'MedicationRequest?patient={{context.patientId}}&status=active',
    },
    { key: 'conditions', purpose: 'active conditions', resourceType: 'Condition', concepts: [], template: 'Condition?patient={{context.patientId}}&clinical-status=active' },
  ];
  const prefetch = Object.fromEntries(prefetchKeys.map((k) => [k.key, k.template]));
  const services: CdsServiceDefinition[] = [
    {
      id: SERVICE_IDS.patientView,
      hook: 'patient-view',
      title: 'ImmunoGuide: sepsis immune state',
      description:
        "Immune class of a septic patient under the ImmunoSep rule set (MALS, immunoparalysis, unclassified, or what to order when indeterminate), the evidence and its age, today's SOFA, eligibility gaps and the proposed targeted therapy.",
      prefetch,
      usageRequirements: USAGE,
    },
    {
      id: SERVICE_IDS.orderSelect,
      hook: 'order-select',
      title: 'ImmunoGuide: targeted immunotherapy order check (select)',
      description: "Checks a selected anakinra or interferon-gamma order against the patient's immune class, biomarker age, neutrophils, creatinine clearance and platelets.",
      prefetch,
      usageRequirements: USAGE,
    },
    {
      id: SERVICE_IDS.orderSign,
      hook: 'order-sign',
      title: 'ImmunoGuide: targeted immunotherapy order check (sign)',
      description: "Checks anakinra or interferon-gamma orders about to be signed against the patient's immune class, biomarker age, neutrophils, creatinine clearance and platelets.",
      prefetch,
      usageRequirements: USAGE,
    },
  ];
  const uncoded = [...new Set([...BIOMARKERS, ...SOFA_INPUTS, ...SAFETY_LABS])].filter((c) => codings(c).length === 0);
  return { services, prefetchKeys, uncoded, codings };
}
