/**
 * Accumulates one chunk's ParseResult record by record: counts records, marks a record
 * rejected when it produced an error, skipped when it produced nothing and no error, and
 * normalises values through the clinical unit rules.
 */
import type { Concept, IsoDateTime } from '../clinical/types.ts';
import { CONCEPT_UNITS, type NormalizeOptions, normalize } from '../clinical/units.ts';
import type { ConceptDictionary } from './concepts/dictionary.ts';
import { type IssueCode, type ParseContext, type ParseResult, type SourceMeasurement, emptyResult } from './import-format.ts';

/** Distinct unmapped codes remembered per chunk; the rest are counted under "(other)". */
const MAX_UNMAPPED_KEYS = 1000;

/**
 * Normalisation results by concept, unit, body weight and value: source values repeat a lot
 * (lab values have few decimals, an infusion keeps its rate), and a UCUM conversion costs far
 * more than a lookup. normalize is pure, so the cache changes nothing but speed. Nested maps
 * avoid building a string key per value; each cache is emptied when it grows large. Values
 * converted with a body weight (infusion rates) rarely repeat across patients, so their cache
 * is kept small: at 200,000 entries it held about 28 MB per parsing thread on a large FHIR
 * extract for few hits, the largest part of the screen's peak memory at 8 GB.
 */
type Normalized = ReturnType<typeof normalize>;
/** concept -> unit -> value (no body weight), and concept -> unit -> weight -> value. */
const normalizeCache = new Map<Concept, Map<string, Map<number, Normalized>>>();
const weightedCache = new Map<Concept, Map<string, Map<number, Map<number, Normalized>>>>();
let cachedValues = 0;
let cachedWeighted = 0;
/** Entries (about 200 bytes each) before a cache is emptied: values without a weight, and with one. */
const MAX_CACHED = 50_000;
const MAX_CACHED_WEIGHTED = 5_000;

function normalizeCached(concept: Concept, value: number, unit: string, options: NormalizeOptions | undefined): Normalized {
  const weight = options?.bodyWeightKg;
  let byValue: Map<number, Normalized> | undefined;
  if (weight === undefined) {
    if (cachedValues >= MAX_CACHED) {
      normalizeCache.clear();
      cachedValues = 0;
    }
    let byUnit = normalizeCache.get(concept);
    if (byUnit === undefined) normalizeCache.set(concept, (byUnit = new Map()));
    byValue = byUnit.get(unit);
    if (byValue === undefined) byUnit.set(unit, (byValue = new Map()));
  } else {
    if (cachedWeighted >= MAX_CACHED_WEIGHTED) {
      weightedCache.clear();
      cachedWeighted = 0;
    }
    let byUnit = weightedCache.get(concept);
    if (byUnit === undefined) weightedCache.set(concept, (byUnit = new Map()));
    let byWeight = byUnit.get(unit);
    if (byWeight === undefined) byUnit.set(unit, (byWeight = new Map()));
    byValue = byWeight.get(weight);
    if (byValue === undefined) byWeight.set(weight, (byValue = new Map()));
  }
  let result = byValue.get(value);
  if (result === undefined) {
    result = normalize(concept, value, unit, options);
    byValue.set(value, result);
    if (weight === undefined) cachedValues++;
    else cachedWeighted++;
  }
  return result;
}

/**
 * Whether normalize() would return a value already in its concept's canonical unit unchanged:
 * a finite value within the plausible range (whole when required). This is exactly normalize's
 * path for the canonical unit (no alias, refusal or conversion applies to it), except for
 * concepts that read a unitless value as a percent (FiO2), which always go through normalize.
 * Anything else, including every failure, goes through normalize for its result and message.
 */
const CANONICAL_FAST = new Map(
  (Object.keys(CONCEPT_UNITS) as Concept[])
    .filter((concept) => CONCEPT_UNITS[concept].unitlessPercent === undefined)
    .map((concept) => [concept, { unit: CONCEPT_UNITS[concept].canonicalUnit, ...CONCEPT_UNITS[concept].plausible }] as const),
);

function canonicalAsIs(concept: Concept, value: number, unit: string): boolean {
  const spec = CANONICAL_FAST.get(concept);
  return (
    spec !== undefined &&
    unit === spec.unit &&
    Number.isFinite(value) &&
    value >= spec.min &&
    value <= spec.max &&
    (spec.integer !== true || Number.isInteger(value))
  );
}

export class ChunkCollector {
  readonly result: ParseResult = emptyResult();
  readonly fileName: string;
  readonly source: string;
  readonly siteId: string | undefined;
  readonly dictionary: ConceptDictionary;
  /** The current record: a line number, or a label such as "Bundle.entry[3]" (built into a location only for issues). */
  #record: number | string = 0;
  #hasError = false;
  #produced = false;

  constructor(context: ParseContext, defaultSource: string) {
    this.fileName = context.fileName;
    this.source = context.source ?? defaultSource;
    this.siteId = context.siteId;
    this.dictionary = context.dictionary;
  }

  /** Starts a record: its line number, or a label (e.g. "Bundle.entry[3]"). */
  begin(record: number | string): void {
    this.result.records++;
    this.#record = record;
    this.#hasError = false;
    this.#produced = false;
  }

  end(): void {
    if (this.#hasError) this.result.rejected++;
    else if (!this.#produced) this.result.skipped++;
  }

  /** Whether the current record has an error already (to avoid reporting one cause twice). */
  get failed(): boolean {
    return this.#hasError;
  }

  /** Marks the current record as carrying data even though it produced no measurement (a Patient). */
  produced(): void {
    this.#produced = true;
  }

  /**
   * An error of the current record at `element` (a path such as "Observation.subject"; given as
   * base and child, the path is only built when an issue is reported).
   */
  error(code: IssueCode, diagnostics: string, element?: string, child?: string): void {
    this.#hasError = true;
    this.result.issues.push({ severity: 'error', code, diagnostics, location: this.#where(element, child), file: this.fileName });
  }

  warning(code: IssueCode, diagnostics: string, element?: string, child?: string): void {
    this.result.issues.push({ severity: 'warning', code, diagnostics, location: this.#where(element, child), file: this.fileName });
  }

  /** An issue about a location other than the current record (groups flushed at the end of a file). */
  issueAt(severity: 'error' | 'warning', code: IssueCode, diagnostics: string, location: string[]): void {
    this.result.issues.push({ severity, code, diagnostics, location, file: this.fileName });
  }

  unmapped(codeKey: string): void {
    const map = this.result.unmapped;
    const key = map.has(codeKey) || map.size < MAX_UNMAPPED_KEYS ? codeKey : '(other)';
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  /**
   * Normalises and adds a measurement; a value the unit rules refuse becomes an error issue
   * naming the value, unit and reason. Returns whether it was added.
   */
  measure(input: {
    patientId: string;
    concept: Concept;
    value: number;
    unit: string;
    time: IsoDateTime;
    endTime?: IsoDateTime | undefined;
    recordId: string;
    context?: Record<string, string | number>;
    qualifiers?: SourceMeasurement['qualifiers'];
    options?: NormalizeOptions;
    element?: string;
    child?: string;
  }): boolean {
    const measurement = this.value(input.patientId, input.concept, input.value, input.unit, input.time, input.endTime, input.recordId, input.options, input.element, input.child);
    if (measurement === undefined) return false;
    if (input.context !== undefined) measurement.context = input.context;
    if (input.qualifiers !== undefined) measurement.qualifiers = input.qualifiers;
    return true;
  }

  /** measure() with positional arguments, for the per-record hot paths; returns the measurement added. */
  value(
    patientId: string,
    concept: Concept,
    value: number,
    unit: string,
    time: IsoDateTime,
    endTime: IsoDateTime | undefined,
    recordId: string,
    options?: NormalizeOptions,
    element?: string,
    child?: string,
  ): SourceMeasurement | undefined {
    let canonicalValue = value;
    let canonicalUnit = unit;
    if (options?.bodyWeightKg !== undefined || !canonicalAsIs(concept, value, unit)) {
      const normalized = normalizeCached(concept, value, unit, options);
      if (!normalized.ok) {
        this.error(normalized.error.kind === 'implausible' ? 'value' : 'code-invalid', normalized.error.message, element, child);
        return undefined;
      }
      canonicalValue = normalized.value.value;
      canonicalUnit = normalized.value.unit;
    }
    if (endTime !== undefined && endTime < time) {
      this.error('value', `the interval ends (${endTime}) before it starts (${time})`, element, child);
      return undefined;
    }
    const measurement: SourceMeasurement = {
      patientId,
      concept,
      value: canonicalValue,
      unit: canonicalUnit,
      time,
      provenance: { source: this.source, recordId },
    };
    if (unit !== measurement.unit || value !== measurement.value) measurement.reported = { value, unit };
    if (endTime !== undefined) measurement.endTime = endTime;
    this.result.measurements.push(measurement);
    this.#produced = true;
    return measurement;
  }

  #where(element: string | undefined, child: string | undefined): string[] {
    const record = typeof this.#record === 'number' ? `line ${this.#record}` : this.#record;
    if (element === undefined) return [record];
    return [record, child === undefined ? element : `${element}.${child}`];
  }
}

/** Patient ids as the store accepts them (patient.id: 1 to 128 characters). */
export function checkPatientId(id: unknown): string | undefined {
  if (typeof id !== 'string') return `the patient id must be a string, got ${JSON.stringify(id) ?? 'nothing'}`;
  if (id.length === 0 || id.length > 128) return `the patient id must have 1 to 128 characters, got ${id.length}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(id)) return 'the patient id contains control characters';
  return undefined;
}

/** Site ids as the store accepts them (site.id CHECK constraint). */
export function checkSiteId(id: string): string | undefined {
  return /^[A-Za-z0-9._-]{1,64}$/.test(id) ? undefined : `site "${id}" must be 1-64 letters, digits, '.', '_' or '-'`;
}
