/**
 * Canonical JSON: the one byte representation that audit hashes and evidence digests are
 * computed over, so anyone can recompute them from the stored values.
 *
 * Definition (equal to RFC 8785, JSON Canonicalization Scheme, for the values allowed here):
 * - values are null, true, false, finite numbers, strings, arrays and plain objects;
 * - no whitespace anywhere;
 * - object members sorted by key, comparing keys as sequences of UTF-16 code units
 *   (JavaScript's default string order); members whose value is `undefined` are refused,
 *   never silently dropped;
 * - numbers and strings are written exactly as ECMAScript JSON.stringify writes them
 *   (shortest round-tripping number, -0 as 0; strings with the standard escapes);
 * - the result is hashed as UTF-8.
 */
import { createHash } from 'node:crypto';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Where `value` is not canonical-JSON-safe, as a path ("$.payload.items[2]") with the reason;
 * undefined when it is. Also refuses U+0000, which PostgreSQL jsonb cannot store.
 */
export function jsonProblem(value: unknown, path = '$'): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path}: ${value} is not a finite number`;
  if (typeof value === 'string') return value.includes('\u0000') ? `${path}: contains U+0000` : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return `${path}: a key contains U+0000`;
      const problem = jsonProblem(child, `${path}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return `${path}: ${value === undefined ? 'undefined' : typeof value === 'object' ? 'not a plain object' : typeof value} is not JSON`;
}

/** The canonical serialisation of a JSON value (see the file comment). Throws on non-JSON input: callers check with jsonProblem first. */
export function canonicalJson(value: JsonValue): string {
  const problem = jsonProblem(value);
  if (problem !== undefined) throw new TypeError(`not canonical JSON: ${problem}`);
  return write(value);
}

function write(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${write(value[key]!)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
