/**
 * Sources cited by the immune rule sets. Each threshold names one of these by id, with a
 * locator (section, table) so a clinician can check the number against its source.
 */
export interface Citation {
  id: CitationId;
  /** Short name used next to each threshold, e.g. "ImmunoSep (JAMA 2026)". */
  short: string;
  /** Reference as it appears in documents. */
  text: string;
  doi?: string;
  /** Trial registry numbers. */
  registry?: readonly string[];
}

export type CitationId = 'clinical-spec' | 'immunosep' | 'immunosep-protocol' | 'provide' | 'hscore' | 'save-more';

export const CITATIONS: Readonly<Record<CitationId, Citation>> = {
  'clinical-spec': {
    id: 'clinical-spec',
    short: 'CLINICAL.md',
    text: 'ImmunoGuide clinical specification (shared/spec/CLINICAL.md), the digest of the sources below that this software implements',
  },
  immunosep: {
    id: 'immunosep',
    short: 'ImmunoSep (JAMA 2026)',
    text: 'ImmunoSep randomized clinical trial report. JAMA 2026;335(9):775-786',
    doi: '10.1001/jama.2025.24175',
    registry: ['NCT04990232', 'EudraCT 2020-005768-74'],
  },
  'immunosep-protocol': {
    id: 'immunosep-protocol',
    short: 'ImmunoSep protocol (BMJ Open 2022)',
    text: 'ImmunoSep trial protocol. BMJ Open 2022',
    registry: ['NCT04990232', 'EudraCT 2020-005768-74'],
  },
  provide: {
    id: 'provide',
    short: 'PROVIDE (Cell Rep Med 2022)',
    text: 'PROVIDE randomized clinical trial. Cell Rep Med 2022;3:100817',
    registry: ['NCT03332225'],
  },
  hscore: {
    id: 'hscore',
    short: 'Fardet 2014',
    text: 'Fardet L, et al. Development and validation of the HScore, a score for the diagnosis of reactive hemophagocytic syndrome. Arthritis Rheumatol 2014;66(9):2613-2620',
    doi: '10.1002/art.38690',
  },
  'save-more': {
    id: 'save-more',
    short: 'SAVE-MORE (Nat Med 2021)',
    text: 'SAVE-MORE trial: Kyriazopoulou E, et al. Early treatment of COVID-19 with anakinra guided by soluble urokinase plasminogen receptor plasma levels. Nat Med 2021;27:1752-1760',
    doi: '10.1038/s41591-021-01499-z',
  },
};

/** A citation with the place in it that supports one number. */
export interface SourceRef {
  citation: CitationId;
  locator: string;
}
