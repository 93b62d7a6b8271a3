/**
 * Parser state shared by chunks that worker threads parse at the same time (screen-parallel.ts).
 *
 * The FHIR reader carries a little state from record to record (the Devices, Medications and
 * Specimens read, each patient's charted weights: ParserState.memory), and a chunk's result may
 * depend on what earlier chunks stored there. Read one after the other, chunk N sees the state
 * left by chunks 0..N-1. In parallel, the main thread keeps that exact state and each worker a
 * replica that lags behind; the replicas log what each chunk read and changed, and the main
 * thread checks, chunk by chunk in file order, that every value a chunk read is the value the
 * exact state held at that point (optimistic concurrency: same inputs, same deterministic parser,
 * same result). A chunk that read anything else is parsed again on the main thread against the
 * exact state, so the outcome is always that of reading in order; the check only decides how much
 * of the work the workers get to keep.
 *
 * Versions: every key of the exact state carries the sequence number of the chunk that last
 * changed it (-1: never). A replica holds, per key, the version of the value it has and whether
 * that value is its own speculative change (of a chunk not checked yet). A chunk's first access
 * to a key is logged with the version seen; the check compares versions, not values. What a chunk
 * changed is found by comparing each key it touched at its end with the key at its first access
 * (serialised, so values changed in place count, and a key set and removed again does not).
 *
 * Memory: the state is held three times (the exact state and a replica per reading thread) and
 * grows with the input (a FHIR export charts a weight for every patient), so a key costs as
 * little as it can: its version is one small integer (a stamp) in a map beside the values, keyed
 * by the same string, which is a copy of its own (not a view into a longer key or a line).
 */
import v8 from 'node:v8';
import type { ParserState } from '../import-format.ts';
import { detach } from './screen-patient.ts';

/**
 * Sizes of state maps up to which every size comparison of the parsers is known to go the same
 * way: the FHIR reader remembers at most 100,000 resources and weights (MAX_REMEMBERED in
 * src/sources/fhir/adapter.ts, pinned by test/cli/screen.test.ts). A chunk that read the size of a
 * map that differs from the size in the exact state is accepted only while both are below this.
 */
export const SIZE_LIMIT_FLOOR = 100_000;

/** The three maps of a ParserState, as a one-letter prefix of keys in logs. */
type MapName = 'g' | 'm' | 'l';

/**
 * A chunk's operations in order: [0, key, version, speculative] its first access to a key;
 * [1, key, present] a set (true) or delete (false); [2, map, size] a size read; [3] an access
 * the check cannot follow (iteration, clear).
 */
export type StateOp = [0, string, number, boolean] | [1, string, boolean] | [2, MapName, number] | [3];

/** What one chunk did to the state. */
export interface StateLog {
  ops: StateOp[];
  /** The keys it changed, with their value at its end (null: absent). */
  changes: Array<[string, { value: unknown } | null]>;
}

/** A change for a replica: key, value (null: absent), version, and the speculative change it overrides. */
export type SyncEntry = [key: string, value: { value: unknown } | null, version: number, overrides: number];

/**
 * A key's version as one number: the sequence number of the chunk that last changed it, times
 * two, plus one when the value is the replica's own change in a chunk not checked yet
 * (speculative). A Map of small integers holds no object per key.
 */
const stamp = (version: number, speculative: boolean): number => version * 2 + (speculative ? 1 : 0);
const versionOf = (stamp: number | undefined): number => (stamp === undefined ? -1 : Math.floor(stamp / 2));
const isSpeculative = (stamp: number | undefined): boolean => stamp !== undefined && stamp % 2 === 1;

/** A Map that reports every access to the TrackedState it belongs to. */
class TrackedMap extends Map<string, unknown> {
  owner: TrackedState | undefined;
  name: MapName = 'm';
  /** Each changed key's stamp, under the key string the map holds. */
  readonly stamps = new Map<string, number>();

  override get(key: string): unknown {
    this.owner?.access(this.name, key);
    return super.get(key);
  }

  override has(key: string): boolean {
    this.owner?.access(this.name, key);
    return super.has(key);
  }

  override set(key: string, value: unknown): this {
    this.owner?.access(this.name, key);
    this.owner?.changed(this.name, key, true);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    this.owner?.access(this.name, key);
    this.owner?.changed(this.name, key, false);
    return super.delete(key);
  }

  override clear(): void {
    this.owner?.untracked();
    super.clear();
  }

  override get size(): number {
    const size = super.size;
    this.owner?.sized(this.name, size);
    return size;
  }

  override forEach(callback: (value: unknown, key: string, map: Map<string, unknown>) => void, thisArg?: unknown): void {
    this.owner?.untracked();
    super.forEach(callback, thisArg);
  }

  override entries(): MapIterator<[string, unknown]> {
    this.owner?.untracked();
    return super.entries();
  }

  override keys(): MapIterator<string> {
    this.owner?.untracked();
    return super.keys();
  }

  override values(): MapIterator<unknown> {
    this.owner?.untracked();
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[string, unknown]> {
    this.owner?.untracked();
    return super[Symbol.iterator]();
  }

  /** Accesses that are not the parser's (checking, applying checked changes): not logged. */
  peek(key: string): { value: unknown } | null {
    return super.has(key) ? { value: super.get(key) } : null;
  }

  /** Stores a value with its stamp (null: removes the key; its stamp stays). */
  put(key: string, value: { value: unknown } | null, stamp: number): void {
    const own = detach(key);
    if (value === null) super.delete(own);
    else super.set(own, value.value);
    this.stamps.set(own, stamp);
  }

  /**
   * Sets the stamp of a key a parse changed. A key stamped for the first time is held by both
   * maps as one string of its own from then on (a parser builds keys from parts of its input).
   */
  stamp(key: string, stamp: number): void {
    if (this.stamps.has(key)) {
      this.stamps.set(key, stamp);
      return;
    }
    const own = detach(key);
    if (super.has(key)) {
      const value = super.get(key);
      super.delete(key);
      super.set(own, value);
    }
    this.stamps.set(own, stamp);
  }

  get count(): number {
    return super.size;
  }
}

function trackedMap(owner: TrackedState, name: MapName): TrackedMap {
  const map = new TrackedMap();
  map.owner = owner;
  map.name = name;
  return map;
}

/** A key's value at a chunk's first access to it: absent, a primitive, or an object serialised. */
type Snapshot = { present: false } | { present: true; primitive: unknown } | { present: true; serialized: Buffer | null };

/**
 * A ParserState whose accesses are logged per chunk: a worker's replica, or the exact state on
 * the main thread (which logs its own parses to tell the replicas what changed).
 */
export class TrackedState implements ParserState {
  readonly groups: TrackedMap;
  readonly memory: TrackedMap;
  readonly lookups: TrackedMap;
  /** The chunk being logged, or undefined between chunks. */
  #chunk: { ops: StateOp[]; first: Record<MapName, Map<string, Snapshot>> } | undefined;

  constructor() {
    this.groups = trackedMap(this, 'g');
    this.memory = trackedMap(this, 'm');
    this.lookups = trackedMap(this, 'l');
  }

  #map(name: MapName): TrackedMap {
    return name === 'g' ? this.groups : name === 'm' ? this.memory : this.lookups;
  }

  /** Starts logging a chunk. */
  begin(): void {
    this.#chunk = { ops: [], first: { g: new Map(), m: new Map(), l: new Map() } };
  }

  /**
   * Ends the chunk `seq`: its log; its changes take version `seq`, speculative or (for the main
   * thread's exact parses) not.
   */
  end(seq: number, speculative: boolean): StateLog {
    const chunk = this.#chunk;
    if (chunk === undefined) throw new Error('TrackedState.end without begin');
    this.#chunk = undefined;
    const changes: StateLog['changes'] = [];
    for (const name of ['g', 'm', 'l'] as const) {
      const map = this.#map(name);
      for (const [key, before] of chunk.first[name]) {
        const after = map.peek(key);
        if (sameAs(before, after)) continue;
        changes.push([name + key, after]);
        map.stamp(key, stamp(seq, speculative));
      }
    }
    return { ops: chunk.ops, changes };
  }

  access(name: MapName, key: string): void {
    const chunk = this.#chunk;
    if (chunk === undefined) return;
    const first = chunk.first[name];
    if (first.has(key)) return;
    const current = this.#map(name).peek(key);
    first.set(key, snapshot(current));
    const held = this.#map(name).stamps.get(key);
    chunk.ops.push([0, name + key, versionOf(held), isSpeculative(held)]);
  }

  changed(name: MapName, key: string, present: boolean): void {
    this.#chunk?.ops.push([1, name + key, present]);
  }

  sized(name: MapName, size: number): void {
    this.#chunk?.ops.push([2, name, size]);
  }

  untracked(): void {
    this.#chunk?.ops.push([3]);
  }

  /** The version of a key: the chunk that last changed it, -1 for never. */
  version(key: string): number {
    return versionOf(this.#map(key[0] as MapName).stamps.get(key.slice(1)));
  }

  has(key: string): boolean {
    return this.#map(key[0] as MapName).peek(key.slice(1)) !== null;
  }

  value(key: string): { value: unknown } | null {
    return this.#map(key[0] as MapName).peek(key.slice(1));
  }

  size(name: MapName): number {
    return this.#map(name).count;
  }

  /** Stores a checked value with its version. */
  put(key: string, value: { value: unknown } | null, version: number): void {
    this.#map(key[0] as MapName).put(key.slice(1), value, stamp(version, false));
  }

  /**
   * A replica takes a change from the main thread unless it holds a later value already: a
   * later checked change, or its own speculative change of a later chunk (checked when that
   * chunk is). `overrides` names the chunk whose speculative change the entry replaces.
   */
  sync(entries: readonly SyncEntry[]): void {
    for (const [key, value, version, overrides] of entries) {
      const held = this.#map(key[0] as MapName).stamps.get(key.slice(1));
      if (held === undefined || versionOf(held) < version || (isSpeculative(held) && versionOf(held) === overrides)) this.put(key, value, version);
    }
  }
}

/**
 * Whether a chunk's result is the result of reading in order: every key it read has, in the
 * exact state (which holds the changes of every earlier chunk), the version the chunk saw, that
 * version is not a speculative change that was parsed again, and every size it read is the exact
 * size or both are below any limit the parsers compare sizes with.
 */
export function checkLog(log: StateLog, exact: TrackedState, redone: ReadonlySet<number>): boolean {
  const present = new Map<string, boolean>();
  const delta = { g: 0, m: 0, l: 0 };
  for (const op of log.ops) {
    switch (op[0]) {
      case 0: {
        if (exact.version(op[1]) !== op[2]) return false;
        if (op[3] && redone.has(op[2])) return false;
        break;
      }
      case 1: {
        const key = op[1];
        const was = present.get(key) ?? exact.has(key);
        if (was !== op[2]) delta[key[0] as MapName] += op[2] ? 1 : -1;
        present.set(key, op[2]);
        break;
      }
      case 2: {
        const exactSize = exact.size(op[1]) + delta[op[1]];
        if (exactSize !== op[2] && (exactSize >= SIZE_LIMIT_FLOOR || op[2] >= SIZE_LIMIT_FLOOR)) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

function snapshot(current: { value: unknown } | null): Snapshot {
  if (current === null) return { present: false };
  const value = current.value;
  if (typeof value !== 'object' || value === null) return { present: true, primitive: value };
  return { present: true, serialized: serialize(value) };
}

function sameAs(before: Snapshot, after: { value: unknown } | null): boolean {
  if (after === null || !before.present) return after === null && !before.present;
  const value = after.value;
  if ('primitive' in before) return (typeof value !== 'object' || value === null) && Object.is(before.primitive, value);
  if (typeof value !== 'object' || value === null || before.serialized === null) return false;
  const now = serialize(value);
  return now !== null && now.equals(before.serialized);
}

/** v8's serialisation (structured clone), null for what it cannot serialise: then always "changed". */
function serialize(value: object): Buffer | null {
  try {
    return v8.serialize(value);
  } catch {
    return null;
  }
}
