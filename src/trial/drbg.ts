/**
 * Deterministic, cryptographically strong random numbers keyed by a recorded seed, so that a
 * randomisation list can be regenerated and verified by anyone holding the seed, and cannot
 * be predicted by anyone who does not.
 *
 * Construction (HMAC-SHA256 in counter mode, as in the NIST SP 800-108 counter-mode KDF):
 *   streamKey = HMAC-SHA256(key = seed, message = UTF-8("immunoguide/drbg/v1" NUL purpose NUL label))
 *   block[i]  = HMAC-SHA256(key = streamKey, message = i as an unsigned 64-bit big-endian integer), i = 0, 1, ...
 * The stream is block[0] || block[1] || ...; 32-bit words are read from it big-endian, 4 bytes
 * at a time. Distinct (purpose, label) pairs give independent streams from one seed.
 *
 * The seed itself comes from the operating system's CSPRNG in the shell (crypto.randomBytes)
 * when a trial is created; this module never draws randomness of its own.
 */
import { createHash, createHmac } from 'node:crypto';
import { type Result, err, ok } from '../clinical/types.ts';

export const DRBG_ALGORITHM = 'hmac-sha256-ctr/v1';
/** Seeds shorter than 128 bits are refused; trials are created with 256-bit seeds. */
export const MIN_SEED_BYTES = 16;
export const MAX_SEED_BYTES = 64;

export interface WordSource {
  /** The next uniformly distributed integer in [0, 2^32). */
  nextUint32(): number;
}

export function createStream(seed: Uint8Array, purpose: string, label: string): WordSource {
  const streamKey = createHmac('sha256', seed).update(`immunoguide/drbg/v1\u0000${purpose}\u0000${label}`, 'utf8').digest();
  let counter = 0n;
  let block = new Uint8Array(0);
  let offset = 0;
  return {
    nextUint32() {
      if (offset + 4 > block.length) {
        const message = new Uint8Array(8);
        new DataView(message.buffer).setBigUint64(0, counter);
        counter += 1n;
        block = createHmac('sha256', streamKey).update(message).digest();
        offset = 0;
      }
      const word = new DataView(block.buffer, block.byteOffset + offset, 4).getUint32(0);
      offset += 4;
      return word;
    },
  };
}

/**
 * A uniform integer in [0, n) by rejection sampling: words at or above the largest multiple
 * of n that fits in the word range are discarded, so every residue is equally likely (no
 * modulo bias). `wordRange` is 2^32 for real streams; tests use a small range to enumerate
 * every word and prove exact uniformity.
 */
export function uniformBelow(n: number, source: WordSource, wordRange = 2 ** 32): number {
  if (!Number.isInteger(n) || n < 1 || n > wordRange) throw new RangeError(`uniformBelow: n must be an integer in [1, ${wordRange}], got ${n}`);
  const limit = wordRange - (wordRange % n);
  for (;;) {
    const word = source.nextUint32();
    if (word < limit) return word % n;
  }
}

/** Fisher-Yates (Durstenfeld) shuffle with unbiased draws; returns a new array. */
export function shuffle<T>(items: readonly T[], source: WordSource): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = uniformBelow(i + 1, source);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** Parses a hex seed (even length, MIN_SEED_BYTES..MAX_SEED_BYTES bytes). */
export function parseSeedHex(hex: string): Result<Uint8Array, string> {
  const text = hex.trim().toLowerCase();
  if (!/^(?:[0-9a-f]{2})+$/.test(text)) return err('the seed must be an even number of hexadecimal digits');
  const bytes = Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
  if (bytes.length < MIN_SEED_BYTES || bytes.length > MAX_SEED_BYTES) {
    return err(`the seed must be ${MIN_SEED_BYTES} to ${MAX_SEED_BYTES} bytes (${MIN_SEED_BYTES * 2}-${MAX_SEED_BYTES * 2} hex digits), got ${bytes.length}`);
  }
  return ok(bytes);
}

export function seedToHex(seed: Uint8Array): string {
  return Array.from(seed, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 (hex) of the seed bytes: recorded in the audit chain so the seed can be checked without being revealed. */
export function seedFingerprint(seed: Uint8Array): string {
  return createHash('sha256').update(seed).digest('hex');
}
