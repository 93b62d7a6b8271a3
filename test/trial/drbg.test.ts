import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type WordSource, createStream, parseSeedHex, seedFingerprint, seedToHex, shuffle, uniformBelow } from '../../src/trial/drbg.ts';

function words(values: number[]): WordSource & { used: number } {
  const source = {
    used: 0,
    nextUint32() {
      const value = values[source.used++];
      if (value === undefined) throw new Error('word source exhausted');
      return value;
    },
  };
  return source;
}

test('the stream follows the documented HMAC-SHA256 counter-mode construction', () => {
  // Expected words computed with an independent Python implementation (hmac, hashlib) of the
  // construction in drbg.ts; the 9th and 10th words come from the second block (counter 1).
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  const stream = createStream(seed, 'test', 'label');
  assert.deepEqual(
    Array.from({ length: 10 }, () => stream.nextUint32()),
    [1815849313, 445978762, 4033516998, 4112892094, 465674862, 1296606394, 3257064741, 150853082, 803376299, 1714039042],
  );
});

test('streams are deterministic per (seed, purpose, label) and independent otherwise', () => {
  const seed = new Uint8Array(32).fill(7);
  const first = (s: WordSource) => [s.nextUint32(), s.nextUint32()];
  assert.deepEqual(first(createStream(seed, 'allocation', 'a')), first(createStream(seed, 'allocation', 'a')));
  assert.notDeepEqual(first(createStream(seed, 'allocation', 'a')), first(createStream(seed, 'allocation', 'b')));
  assert.notDeepEqual(first(createStream(seed, 'allocation', 'a')), first(createStream(seed, 'kit', 'a')));
  assert.notDeepEqual(first(createStream(seed, 'allocation', 'a')), first(createStream(new Uint8Array(32).fill(8), 'allocation', 'a')));
});

test('uniformBelow has no modulo bias: over every word of a small range each residue is equally likely', () => {
  // Word range 8, n = 3: 8 mod 3 = 2, so words 6 and 7 must be rejected; 0-5 give each residue twice.
  for (const n of [1, 2, 3, 5, 7, 8]) {
    const counts = new Array<number>(n).fill(0);
    let accepted = 0;
    for (let word = 0; word < 8; word++) {
      const source = words([word, 0]);
      const value = uniformBelow(n, source, 8);
      if (source.used === 1) {
        counts[value]!++;
        accepted++;
      }
    }
    assert.equal(accepted, 8 - (8 % n), `n=${n}: words at or above ${8 - (8 % n)} are rejected`);
    assert.ok(
      counts.every((c) => c === accepted / n),
      `n=${n}: counts ${counts.join(',')}`,
    );
  }
});

test('uniformBelow rejects words past the largest multiple of n in the 32-bit range', () => {
  // 2^32 mod 3 = 1: the single word 2^32 - 1 is rejected, 2^32 - 2 is accepted.
  const source = words([2 ** 32 - 1, 2 ** 32 - 2]);
  assert.equal(uniformBelow(3, source), (2 ** 32 - 2) % 3);
  assert.equal(source.used, 2);
  // n = 2^31 + 1: only words below 2^31 + 1 are accepted (half the range).
  const big = words([2 ** 31 + 1, 2 ** 32 - 1, 2 ** 31]);
  assert.equal(uniformBelow(2 ** 31 + 1, big), 2 ** 31);
  assert.equal(big.used, 3);
  assert.throws(() => uniformBelow(0, words([])), RangeError);
  assert.throws(() => uniformBelow(1.5, words([])), RangeError);
});

test('shuffle gives every permutation of 4 items with equal frequency (chi-square)', () => {
  const stream = createStream(new Uint8Array(32).fill(1), 'test', 'shuffle');
  const counts = new Map<string, number>();
  const draws = 24_000;
  for (let i = 0; i < draws; i++) {
    const key = shuffle(['a', 'b', 'c', 'd'], stream).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 24);
  const expected = draws / 24;
  const chiSquare = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  // 23 degrees of freedom: P(chi2 > 49.73) = 0.001. A biased shuffle (e.g. drawing j from all n
  // positions each step) gives chi-square in the hundreds at this sample size.
  assert.ok(chiSquare < 49.73, `chi-square ${chiSquare.toFixed(1)}`);
});

test('seeds: hex parsing, length limits, fingerprint', () => {
  const seed = parseSeedHex('AB'.repeat(32));
  assert.ok(seed.ok);
  assert.equal(seedToHex(seed.value), 'ab'.repeat(32));
  assert.equal(seedFingerprint(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.deepEqual(parseSeedHex('abc'), { ok: false, error: 'the seed must be an even number of hexadecimal digits' });
  assert.match((parseSeedHex('ab'.repeat(15)) as { error: string }).error, /16 to 64 bytes/);
  assert.match((parseSeedHex('ab'.repeat(65)) as { error: string }).error, /16 to 64 bytes/);
  assert.equal(parseSeedHex('zz'.repeat(16)).ok, false);
});
