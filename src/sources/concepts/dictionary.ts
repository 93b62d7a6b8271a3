/**
 * The concept dictionary: which source codes (LOINC / SNOMED CT / RxNorm / ATC / local codes,
 * MIMIC-IV itemids and drug names) mean which canonical concept. It is data
 * (dictionary.json next to this file); a site adds its own codes in a file named by
 * IMMUNOGUIDE_CONCEPTS_FILE, merged over the built-in one (see `mergeDictionaries`).
 *
 * `validateDictionary` refuses a dictionary that would make imports ambiguous: a concept the
 * engine does not know, a code mapped to two concepts, a MIMIC-IV item mapped twice, a unit
 * the concept cannot be converted from.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Concept } from '../../clinical/types.ts';
import { CONCEPT_UNITS, isAcceptedUnit } from '../../clinical/units.ts';
// A static import (not a require relative to import.meta.url) so that a bundle of the modules can carry it.
import builtIn from './dictionary.json' with { type: 'json' };

export interface DictionaryCoding {
  /** A code system alias of `codeSystems` ("loinc") or a full URI. */
  system: string;
  code: string;
  display?: string;
  /** 'prefix' matches every code starting with `code` (a hierarchy such as ATC J01). */
  match?: 'exact' | 'prefix';
  /** false: not yet checked against the terminology release. */
  verified?: boolean;
  note?: string;
}

export const MIMIC_EVENT_TABLES = ['labevents', 'chartevents', 'inputevents', 'outputevents'] as const;
export type MimicEventTable = (typeof MIMIC_EVENT_TABLES)[number];

export interface MimicItemMapping {
  table: MimicEventTable;
  itemid: number;
  label?: string;
  /** UCUM unit of the item: used when the row has no unit, or always with ignoreRowUnit. */
  unit?: string;
  ignoreRowUnit?: boolean;
  /** Text values (chartevents.value) and the number each one means. */
  values?: Record<string, number>;
  /** For gcs: which component this item charts; the total is assembled per stay and time. */
  gcsComponent?: 'motor' | 'verbal' | 'eyes';
  /** For the verbal component: the value charted for an intubated patient, and the total it gives. */
  intubatedValue?: string;
  intubatedTotal?: number;
  note?: string;
}

export interface ConceptEntry {
  display: string;
  /** Observation / Procedure / Condition / DiagnosticReport codes. */
  fhir: DictionaryCoding[];
  /** Drug codes of MedicationAdministration that record this concept (vasopressor rates, antibiotics). */
  medication?: DictionaryCoding[];
  /** Device.type codes of DeviceUseStatement. */
  device?: DictionaryCoding[];
  mimic?: MimicItemMapping[];
  /** Lower-case substrings of MIMIC-IV prescriptions.drug / emar.medication. */
  mimicDrugNames?: string[];
  /** Routes of MIMIC-IV prescriptions that count (systemic); empty or absent: any route. */
  mimicRoutes?: string[];
  /** In a site file: replace the built-in entry instead of adding to it. */
  $replace?: boolean;
  $comment?: string;
}

/** Drugs that are not measurement concepts (the study drugs): recognised for therapy tracking. */
export interface MedicationEntry {
  display: string;
  medication: DictionaryCoding[];
  mimicDrugNames?: string[];
  $replace?: boolean;
  $comment?: string;
}

export interface ConceptDictionaryData {
  $comment?: string;
  version: string;
  codeSystems: Record<string, string>;
  concepts: Partial<Record<Concept, ConceptEntry>>;
  medications: Record<string, MedicationEntry>;
}

export type MedicationMatch = { kind: 'concept'; concept: Concept } | { kind: 'medication'; id: string };

export interface MimicItemMatch {
  concept: Concept;
  mapping: MimicItemMapping;
}

/** A validated dictionary with the lookup indexes the adapters use. */
export interface ConceptDictionary {
  readonly data: ConceptDictionaryData;
  /** SHA-256 of the merged data: part of every import checkpoint, so a changed dictionary re-reads files. */
  readonly hash: string;
  /** Where the dictionary came from (built-in, plus the site file). */
  readonly sources: readonly string[];
  /** The concept of an Observation / Procedure / Condition code. */
  conceptForCode(systemUri: string, code: string): Concept | undefined;
  medicationForCode(systemUri: string, code: string): MedicationMatch | undefined;
  conceptForDevice(systemUri: string, code: string): Concept | undefined;
  mimicItem(table: MimicEventTable, itemid: number): MimicItemMatch | undefined;
  /** The concept or study drug a MIMIC-IV drug name (and route, when known) stands for. */
  mimicDrug(name: string, route: string | undefined): MedicationMatch | undefined;
  /** The full URI of a code system alias (or the argument when it already is a URI). */
  systemUri(system: string): string;
}

const BUILT_IN_PATH = 'src/sources/concepts/dictionary.json';

export function builtInDictionaryData(): ConceptDictionaryData {
  // A fresh copy each time: callers may merge into it.
  return structuredClone(builtIn as unknown as ConceptDictionaryData);
}

/**
 * The built-in dictionary merged with the site file named by IMMUNOGUIDE_CONCEPTS_FILE, if any.
 * Throws with every problem found when the result is invalid.
 */
export function loadConceptDictionary(env: NodeJS.ProcessEnv = process.env): ConceptDictionary {
  const siteFile = env.IMMUNOGUIDE_CONCEPTS_FILE?.trim();
  let data = builtInDictionaryData();
  const sources = [BUILT_IN_PATH];
  if (siteFile) {
    let site: unknown;
    try {
      site = JSON.parse(fs.readFileSync(siteFile, 'utf8'));
    } catch (error) {
      throw new DictionaryError(`IMMUNOGUIDE_CONCEPTS_FILE ${siteFile}: ${(error as Error).message}`, []);
    }
    data = mergeDictionaries(data, site);
    sources.push(siteFile);
  }
  const built = buildDictionary(data, sources);
  if (!built.ok) throw new DictionaryError(`invalid concept dictionary (${sources.join(' + ')})`, built.problems);
  return built.dictionary;
}

export class DictionaryError extends Error {
  override name = 'DictionaryError';
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[]) {
    super(problems.length === 0 ? message : `${message}:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/**
 * A site file over the built-in data: code systems are added, concept and medication entries
 * are extended (their code lists appended, `display` replaced) unless the site entry says
 * `"$replace": true`. The site file has the same shape as dictionary.json; every field is optional.
 */
export function mergeDictionaries(base: ConceptDictionaryData, site: unknown): ConceptDictionaryData {
  const merged = structuredClone(base);
  if (!isRecord(site)) return merged; // validation reports the shape problem below
  const siteData = site as Partial<ConceptDictionaryData>;
  if (typeof siteData.version === 'string') merged.version = `${base.version}+${siteData.version}`;
  if (isRecord(siteData.codeSystems)) Object.assign(merged.codeSystems, siteData.codeSystems);
  if (isRecord(siteData.concepts)) {
    for (const [key, entry] of Object.entries(siteData.concepts)) {
      const concept = key as Concept;
      const existing = merged.concepts[concept];
      merged.concepts[concept] =
        existing === undefined || !isRecord(entry) || entry.$replace === true
          ? (entry as ConceptEntry)
          : mergeEntry(existing, entry as Partial<ConceptEntry>);
    }
  }
  if (isRecord(siteData.medications)) {
    for (const [id, entry] of Object.entries(siteData.medications)) {
      const existing = merged.medications[id];
      merged.medications[id] =
        existing === undefined || !isRecord(entry) || entry.$replace === true
          ? (entry as MedicationEntry)
          : mergeEntry(existing, entry as Partial<MedicationEntry>);
    }
  }
  return merged;
}

function mergeEntry<T extends object>(base: T, extra: Partial<T>): T {
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] = Array.isArray(current) && Array.isArray(value) ? [...(current as unknown[]), ...(value as unknown[])] : value;
  }
  return result as T;
}

export type BuildResult = { ok: true; dictionary: ConceptDictionary } | { ok: false; problems: string[] };

/** Validates the data and builds the lookup indexes. */
export function buildDictionary(data: ConceptDictionaryData, sources: readonly string[] = ['(inline)']): BuildResult {
  const problems = validateDictionary(data);
  if (problems.length > 0) return { ok: false, problems };

  const uri = (system: string): string => data.codeSystems[system] ?? system;
  // Nested by system then code: lookups build no string key.
  const codes = new Map<string, Map<string, Concept>>();
  const devices = new Map<string, Concept>();
  const medications = new Map<string, MedicationMatch>();
  const medicationPrefixes: Array<{ system: string; prefix: string; match: MedicationMatch }> = [];
  const mimicItems = new Map<string, MimicItemMatch>();
  const drugNames: Array<{ name: string; routes: Set<string> | undefined; match: MedicationMatch }> = [];

  const addMedication = (coding: DictionaryCoding, match: MedicationMatch): void => {
    if (coding.match === 'prefix') medicationPrefixes.push({ system: uri(coding.system), prefix: coding.code, match });
    else medications.set(key(uri(coding.system), coding.code), match);
  };
  for (const [name, entry] of conceptEntries(data)) {
    for (const coding of entry.fhir) {
      const system = uri(coding.system);
      let bySystem = codes.get(system);
      if (bySystem === undefined) codes.set(system, (bySystem = new Map()));
      bySystem.set(coding.code, name);
    }
    for (const coding of entry.device ?? []) devices.set(key(uri(coding.system), coding.code), name);
    for (const coding of entry.medication ?? []) addMedication(coding, { kind: 'concept', concept: name });
    for (const mapping of entry.mimic ?? []) mimicItems.set(`${mapping.table}|${mapping.itemid}`, { concept: name, mapping });
    const routes = entry.mimicRoutes && entry.mimicRoutes.length > 0 ? new Set(entry.mimicRoutes.map((r) => r.toUpperCase())) : undefined;
    for (const drug of entry.mimicDrugNames ?? []) drugNames.push({ name: drug.toLowerCase(), routes, match: { kind: 'concept', concept: name } });
  }
  for (const [id, entry] of Object.entries(data.medications)) {
    for (const coding of entry.medication) addMedication(coding, { kind: 'medication', id });
    for (const drug of entry.mimicDrugNames ?? []) drugNames.push({ name: drug.toLowerCase(), routes: undefined, match: { kind: 'medication', id } });
  }
  // Study drugs first: "interferon gamma" must not be taken for anything broader.
  drugNames.sort((a, b) => (a.match.kind === b.match.kind ? 0 : a.match.kind === 'medication' ? -1 : 1));

  const dictionary: ConceptDictionary = {
    data,
    hash: createHash('sha256').update(JSON.stringify(data)).digest('hex'),
    sources,
    conceptForCode: (systemUri, code) => codes.get(systemUri)?.get(code),
    conceptForDevice: (systemUri, code) => devices.get(key(systemUri, code)),
    medicationForCode(systemUri, code) {
      const exact = medications.get(key(systemUri, code));
      if (exact) return exact;
      return medicationPrefixes.find((p) => p.system === systemUri && code.startsWith(p.prefix))?.match;
    },
    mimicItem: (table, itemid) => mimicItems.get(`${table}|${itemid}`),
    mimicDrug(name, route) {
      const lower = name.toLowerCase();
      const upperRoute = route?.trim().toUpperCase();
      // An unknown route (eMAR rows carry none) does not exclude the drug.
      return drugNames.find((d) => lower.includes(d.name) && (d.routes === undefined || upperRoute === undefined || d.routes.has(upperRoute)))
        ?.match;
    },
    systemUri: uri,
  };
  return { ok: true, dictionary };
}

/** Every problem of the data, as sentences naming the concept and code. Empty when valid. */
export function validateDictionary(data: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(data)) return ['the dictionary must be a JSON object'];
  const d = data as Partial<ConceptDictionaryData>;
  if (typeof d.version !== 'string' || d.version === '') problems.push('"version" must be a non-empty string');
  if (!isRecord(d.codeSystems)) problems.push('"codeSystems" must be an object of alias -> URI');
  else {
    for (const [alias, uri] of Object.entries(d.codeSystems)) {
      if (typeof uri !== 'string' || !uri.includes(':')) problems.push(`code system "${alias}" must map to a URI, got ${JSON.stringify(uri)}`);
    }
  }
  if (!isRecord(d.concepts)) return [...problems, '"concepts" must be an object'];
  if (d.medications !== undefined && !isRecord(d.medications)) problems.push('"medications" must be an object');
  const systems = isRecord(d.codeSystems) ? (d.codeSystems as Record<string, string>) : {};
  const uri = (system: string): string => systems[system] ?? system;

  // Owners of each code, per namespace, to report codes claimed twice.
  const owners = { fhir: new Map<string, string>(), device: new Map<string, string>(), medication: new Map<string, string>() };
  const prefixes: Array<{ system: string; prefix: string; owner: string }> = [];
  const mimicOwners = new Map<string, string>();

  const checkCodings = (owner: string, field: keyof typeof owners, codings: unknown): void => {
    if (codings === undefined) return;
    if (!Array.isArray(codings)) {
      problems.push(`${owner}: "${field}" must be an array of {system, code}`);
      return;
    }
    codings.forEach((coding: unknown, index) => {
      const where = `${owner}.${field}[${index}]`;
      if (!isRecord(coding) || typeof coding.system !== 'string' || typeof coding.code !== 'string' || coding.code.trim() === '') {
        problems.push(`${where}: needs a string "system" and a non-empty string "code"`);
        return;
      }
      const system = coding.system;
      if (!(system in systems) && !system.includes(':')) {
        problems.push(`${where}: unknown code system "${system}" (add it to "codeSystems" or use a URI)`);
        return;
      }
      if (coding.match !== undefined && coding.match !== 'exact' && coding.match !== 'prefix') {
        problems.push(`${where}: "match" must be "exact" or "prefix"`);
      }
      if (coding.match === 'prefix') {
        if (field !== 'medication') problems.push(`${where}: prefix matching is only supported for medication codes`);
        prefixes.push({ system: uri(system), prefix: coding.code, owner });
        return;
      }
      const codeKey = key(uri(system), coding.code);
      const previous = owners[field].get(codeKey);
      if (previous !== undefined) {
        problems.push(`${where}: ${system}|${coding.code} is already mapped by ${previous} (codes must be unique per system)`);
      } else owners[field].set(codeKey, owner);
    });
  };

  for (const [name, entry] of Object.entries(d.concepts)) {
    const owner = `concepts.${name}`;
    if (!(name in CONCEPT_UNITS)) {
      problems.push(`${owner}: "${name}" is not a concept of the engine (known: ${Object.keys(CONCEPT_UNITS).join(', ')})`);
      continue;
    }
    if (!isRecord(entry)) {
      problems.push(`${owner}: must be an object`);
      continue;
    }
    if (typeof entry.display !== 'string' || entry.display === '') problems.push(`${owner}: "display" must be a non-empty string`);
    if (!Array.isArray(entry.fhir)) problems.push(`${owner}: "fhir" must be an array (it may be empty)`);
    checkCodings(owner, 'fhir', entry.fhir);
    checkCodings(owner, 'device', entry.device);
    checkCodings(owner, 'medication', entry.medication);
    checkMimic(name as Concept, owner, entry.mimic, mimicOwners, problems);
    checkNames(owner, 'mimicDrugNames', entry.mimicDrugNames, problems);
    checkNames(owner, 'mimicRoutes', entry.mimicRoutes, problems);
  }
  for (const [id, entry] of Object.entries(isRecord(d.medications) ? d.medications : {})) {
    const owner = `medications.${id}`;
    if (!isRecord(entry)) {
      problems.push(`${owner}: must be an object`);
      continue;
    }
    if (typeof entry.display !== 'string' || entry.display === '') problems.push(`${owner}: "display" must be a non-empty string`);
    if (!Array.isArray(entry.medication)) problems.push(`${owner}: "medication" must be an array`);
    checkCodings(owner, 'medication', entry.medication);
    checkNames(owner, 'mimicDrugNames', entry.mimicDrugNames, problems);
  }
  // A prefix must not swallow another owner's prefix or exact code.
  for (const p of prefixes) {
    for (const other of prefixes) {
      if (other !== p && other.owner !== p.owner && other.system === p.system && other.prefix.startsWith(p.prefix)) {
        problems.push(`${p.owner}: medication prefix ${p.system}|${p.prefix}* overlaps ${other.owner}'s ${other.prefix}*`);
      }
    }
    for (const [codeKey, owner] of owners.medication) {
      const [system, code] = splitKey(codeKey);
      if (owner !== p.owner && system === p.system && code.startsWith(p.prefix)) {
        problems.push(`${p.owner}: medication prefix ${p.system}|${p.prefix}* also matches ${owner}'s code ${code}`);
      }
    }
  }
  return problems;
}

function checkMimic(concept: Concept, owner: string, mappings: unknown, seen: Map<string, string>, problems: string[]): void {
  if (mappings === undefined) return;
  if (!Array.isArray(mappings)) {
    problems.push(`${owner}: "mimic" must be an array`);
    return;
  }
  mappings.forEach((mapping: unknown, index) => {
    const where = `${owner}.mimic[${index}]`;
    if (!isRecord(mapping)) {
      problems.push(`${where}: must be an object`);
      return;
    }
    const table = mapping.table;
    if (typeof table !== 'string' || !(MIMIC_EVENT_TABLES as readonly string[]).includes(table)) {
      problems.push(`${where}: "table" must be one of ${MIMIC_EVENT_TABLES.join(', ')}`);
      return;
    }
    if (typeof mapping.itemid !== 'number' || !Number.isInteger(mapping.itemid) || mapping.itemid <= 0) {
      problems.push(`${where}: "itemid" must be a positive integer`);
      return;
    }
    const itemKey = `${table}|${mapping.itemid}`;
    const previous = seen.get(itemKey);
    if (previous !== undefined) problems.push(`${where}: ${table} itemid ${mapping.itemid} is already mapped by ${previous}`);
    else seen.set(itemKey, owner);
    if (mapping.unit !== undefined) {
      if (typeof mapping.unit !== 'string') problems.push(`${where}: "unit" must be a string`);
      else if (!isAcceptedUnit(concept, mapping.unit)) {
        problems.push(`${where}: unit "${mapping.unit}" cannot be converted to ${concept} (${CONCEPT_UNITS[concept].canonicalUnit})`);
      }
    }
    if (mapping.values !== undefined) {
      if (!isRecord(mapping.values) || Object.values(mapping.values).some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        problems.push(`${where}: "values" must map text values to numbers`);
      }
    }
    if (mapping.gcsComponent !== undefined) {
      if (concept !== 'gcs') problems.push(`${where}: "gcsComponent" is only meaningful for gcs`);
      if (!['motor', 'verbal', 'eyes'].includes(String(mapping.gcsComponent))) problems.push(`${where}: "gcsComponent" must be motor, verbal or eyes`);
      if (table !== 'chartevents') problems.push(`${where}: GCS components come from chartevents`);
    }
    if (mapping.intubatedTotal !== undefined && (typeof mapping.intubatedTotal !== 'number' || typeof mapping.intubatedValue !== 'string')) {
      problems.push(`${where}: "intubatedTotal" needs a number and "intubatedValue" the charted text`);
    }
  });
}

function checkNames(owner: string, field: string, names: unknown, problems: string[]): void {
  if (names === undefined) return;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n.trim() === '')) {
    problems.push(`${owner}: "${field}" must be an array of non-empty strings`);
  }
}

function conceptEntries(data: ConceptDictionaryData): Array<[Concept, ConceptEntry]> {
  return Object.entries(data.concepts) as Array<[Concept, ConceptEntry]>;
}

function key(systemUri: string, code: string): string {
  return `${systemUri}|${code}`;
}

function splitKey(codeKey: string): [string, string] {
  const at = codeKey.lastIndexOf('|');
  return [codeKey.slice(0, at), codeKey.slice(at + 1)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

let cachedDefault: ConceptDictionary | undefined;

/** The built-in dictionary alone (tests, and callers without a site file). */
export function defaultConceptDictionary(): ConceptDictionary {
  if (cachedDefault) return cachedDefault;
  const built = buildDictionary(builtInDictionaryData(), [BUILT_IN_PATH]);
  if (!built.ok) throw new DictionaryError('the built-in concept dictionary is invalid', built.problems);
  cachedDefault = built.dictionary;
  return cachedDefault;
}
