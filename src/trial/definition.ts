/**
 * A randomised trial as versioned data (CLINICAL.md section 4): arms per biomarker stratum,
 * allocation ratio, stratification factors, block sizes and the SOFA preset of the endpoint.
 * The definition is stored with the trial and its SHA-256 goes into the audit chain, so the
 * rules an allocation was drawn under can always be shown.
 */
import type { Allocation, TargetedClass } from '../clinical/therapy.ts';
import { type Result, err, ok } from '../clinical/types.ts';
import { IMMUNOSEP_CITATION } from '../clinical/therapy.ts';

export interface TrialArm {
  /** Identifier recorded in the sequence and the pharmacy view, e.g. "anakinra", "placebo". */
  id: string;
  label: string;
  /** Whether the arm's kit carries the stratum's active drug (see kitContents). */
  allocation: Allocation;
  /** Relative weight in the allocation ratio: 1 and 1 for 1:1. */
  ratio: number;
}

export interface StratificationFactor {
  /** "immuneClass" and "site" are mandatory; others (e.g. "covid19") are optional extras. */
  name: string;
  description: string;
  /** Allowed values; absent means any identifier ([A-Za-z0-9._-], as site ids). */
  values?: string[];
}

export interface TrialDefinition {
  id: string;
  version: string;
  title: string;
  citation: string;
  /** Arms of each biomarker stratum; a class without an entry is not randomised in this trial. */
  strata: Partial<Record<TargetedClass, { arms: TrialArm[] }>>;
  /** In this order they make up the stratum key, e.g. "immuneClass=MALS;site=athens". */
  stratificationFactors: StratificationFactor[];
  /** Permuted-block sizes; each block's size is drawn uniformly from this list. */
  blockSizes: number[];
  /** Items the public protocol does not settle, repeated in every output that depends on them. */
  unconfirmed: string[];
  /** SOFA preset of the endpoint (CLINICAL.md section 6: which one the trial used is not public). */
  sofaPreset: string;
  /** Names the sequence construction, so a future change cannot silently reinterpret a stored seed. */
  sequenceAlgorithm: typeof SEQUENCE_ALGORITHM;
}

export const SEQUENCE_ALGORITHM = 'permuted-blocks/hmac-sha256-ctr/v1';
export const SOFA_PRESETS = ['vincent1996', 'mimic-iv', 'ricu'] as const;
export const MANDATORY_FACTORS = ['immuneClass', 'site'] as const;
const IDENTIFIER = /^[A-Za-z0-9._-]{1,64}$/;

/** The ImmunoSep design: 1:1 active vs placebo within each biomarker stratum, sequence per site. */
export const IMMUNOSEP_TRIAL: TrialDefinition = {
  id: 'immunosep',
  version: '1.0.0',
  title: 'Biomarker-guided immunotherapy in sepsis: anakinra (MALS) or interferon-gamma (immunoparalysis) vs placebo',
  citation: IMMUNOSEP_CITATION,
  strata: {
    MALS: {
      arms: [
        { id: 'anakinra', label: 'anakinra 200 mg IV every 8 h', allocation: 'active', ratio: 1 },
        { id: 'placebo', label: 'placebo (saline)', allocation: 'placebo', ratio: 1 },
      ],
    },
    immunoparalysis: {
      arms: [
        { id: 'interferon-gamma', label: 'interferon-gamma 100 ug SC every 48 h', allocation: 'active', ratio: 1 },
        { id: 'placebo', label: 'placebo (saline)', allocation: 'placebo', ratio: 1 },
      ],
    },
  },
  stratificationFactors: [
    { name: 'immuneClass', description: 'biomarker stratum (MALS or immunoparalysis)' },
    { name: 'site', description: 'enrolling hospital: a computer-generated sequence per site' },
  ],
  blockSizes: [2, 4, 6],
  unconfirmed: [
    'block sizes (unconfirmed): the protocol states permuted blocks of varying size without the sizes; 2, 4 and 6 are the default',
    'SOFA preset (unconfirmed): which SOFA convention the trial used is not public; vincent1996 is the default',
  ],
  sofaPreset: 'vincent1996',
  sequenceAlgorithm: SEQUENCE_ALGORITHM,
};

export interface DefinitionProblem {
  path: string;
  message: string;
}

/** Checks a definition (for example one read from a file) before any sequence is drawn from it. */
export function validateDefinition(definition: TrialDefinition): Result<TrialDefinition, DefinitionProblem[]> {
  const problems: DefinitionProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  if (!IDENTIFIER.test(definition.id ?? '')) problem('id', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  if (typeof definition.version !== 'string' || definition.version === '') problem('version', 'must be a non-empty string');
  if (definition.sequenceAlgorithm !== SEQUENCE_ALGORITHM) problem('sequenceAlgorithm', `must be "${SEQUENCE_ALGORITHM}"`);
  if (!(SOFA_PRESETS as readonly string[]).includes(definition.sofaPreset)) problem('sofaPreset', `must be one of ${SOFA_PRESETS.join(', ')}`);

  const names = (definition.stratificationFactors ?? []).map((f) => f.name);
  for (const name of MANDATORY_FACTORS) if (!names.includes(name)) problem('stratificationFactors', `must include "${name}"`);
  names.forEach((name, i) => {
    if (!IDENTIFIER.test(name) || names.indexOf(name) !== i) problem(`stratificationFactors[${i}]`, `name "${name}" must be a unique identifier`);
    const values = definition.stratificationFactors[i]!.values;
    if (values !== undefined && (values.length === 0 || values.some((v) => !IDENTIFIER.test(v)))) {
      problem(`stratificationFactors[${i}].values`, 'must be a non-empty list of identifiers');
    }
  });

  const blockSizes = definition.blockSizes ?? [];
  if (blockSizes.length === 0 || blockSizes.some((b) => !Number.isInteger(b) || b < 1) || new Set(blockSizes).size !== blockSizes.length) {
    problem('blockSizes', 'must be a non-empty list of distinct positive integers');
  }
  const strata = Object.entries(definition.strata ?? {});
  if (strata.length === 0) problem('strata', 'must define at least one stratum');
  for (const [className, stratum] of strata) {
    const path = `strata.${className}`;
    if (className !== 'MALS' && className !== 'immunoparalysis') problem(path, 'only MALS and immunoparalysis have a targeted therapy');
    const arms = stratum?.arms ?? [];
    if (arms.length < 2) problem(`${path}.arms`, 'needs at least two arms');
    const ids = arms.map((a) => a.id);
    arms.forEach((arm, i) => {
      if (!IDENTIFIER.test(arm.id) || ids.indexOf(arm.id) !== i) problem(`${path}.arms[${i}].id`, 'must be a unique identifier');
      if (!Number.isInteger(arm.ratio) || arm.ratio < 1) problem(`${path}.arms[${i}].ratio`, 'must be a positive integer');
      if (arm.allocation !== 'active' && arm.allocation !== 'placebo') problem(`${path}.arms[${i}].allocation`, 'must be active or placebo');
    });
    const ratioSum = arms.reduce((sum, arm) => sum + arm.ratio, 0);
    for (const size of blockSizes) {
      if (ratioSum > 0 && size % ratioSum !== 0) problem('blockSizes', `${size} is not a multiple of the ${className} ratio sum ${ratioSum}`);
    }
  }
  return problems.length === 0 ? ok(definition) : err(problems);
}

export function armsOf(definition: TrialDefinition, immuneClass: TargetedClass): TrialArm[] | undefined {
  return Object.hasOwn(definition.strata, immuneClass) ? definition.strata[immuneClass]?.arms : undefined;
}

/**
 * The stratum key: every factor of the definition, in the definition's order, as name=value
 * joined by ";" (e.g. "immuneClass=MALS;site=athens"). Values are identifiers, so the key is
 * unambiguous. A missing, unknown or disallowed factor is an error.
 */
export function stratumKey(definition: TrialDefinition, factors: Readonly<Record<string, string>>): Result<string, string> {
  for (const name of Object.keys(factors)) {
    if (!definition.stratificationFactors.some((f) => f.name === name)) return err(`"${name}" is not a stratification factor of trial ${definition.id}`);
  }
  const parts: string[] = [];
  for (const factor of definition.stratificationFactors) {
    const value = factors[factor.name];
    if (value === undefined) return err(`stratification factor "${factor.name}" is missing`);
    if (!IDENTIFIER.test(value)) return err(`stratification factor "${factor.name}" has an invalid value`);
    if (factor.values !== undefined && !factor.values.includes(value)) {
      return err(`stratification factor "${factor.name}" must be one of ${factor.values.join(', ')}`);
    }
    if (factor.name === 'immuneClass' && armsOf(definition, value as TargetedClass) === undefined) {
      return err(`immune class "${value}" is not a stratum of trial ${definition.id}`);
    }
    parts.push(`${factor.name}=${value}`);
  }
  return ok(parts.join(';'));
}

/** The factors of a stratum key; the key must be exactly what stratumKey would build from them. */
export function parseStratumKey(definition: TrialDefinition, key: string): Result<Record<string, string>, string> {
  const factors: Record<string, string> = {};
  for (const part of key.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return err(`stratum key "${key}": expected name=value pairs joined by ";"`);
    factors[part.slice(0, eq)] = part.slice(eq + 1);
  }
  const rebuilt = stratumKey(definition, factors);
  if (!rebuilt.ok) return err(`stratum key "${key}": ${rebuilt.error}`);
  if (rebuilt.value !== key) return err(`stratum key "${key}" is not canonical: expected "${rebuilt.value}"`);
  return ok(factors);
}
