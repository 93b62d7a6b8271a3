import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IMMUNOSEP_TRIAL, type TrialDefinition, parseStratumKey, stratumKey, validateDefinition } from '../../src/trial/definition.ts';
import { type SequenceSlot, generateSequence, kitNumber, slotAt } from '../../src/trial/sequence.ts';

const SEED = new Uint8Array(32).fill(0xaa);
const MALS_ATHENS = 'immuneClass=MALS;site=athens';

function list(definition: TrialDefinition, seed: Uint8Array, key: string, length: number): SequenceSlot[] {
  const result = generateSequence(definition, seed, key, length);
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.value;
}

test('known list: matches an independent implementation of the documented algorithm', () => {
  // Computed with scripts/trial/independent-sequence.py (Python hmac/hashlib, written from docs/trial.md);
  // the same list `immunoguide trial sequence --seed aa..aa --stratum ... --length 14` prints.
  const slots = list(IMMUNOSEP_TRIAL, SEED, MALS_ATHENS, 14);
  assert.deepEqual(
    slots.map((s) => [s.position, s.block, s.blockSize, s.positionInBlock, s.armId, s.kitNumber]),
    [
      [1, 1, 6, 1, 'placebo', 'ADXA-2CF4-M5D5'],
      [2, 1, 6, 2, 'anakinra', 'XQ71-5CER-G50B'],
      [3, 1, 6, 3, 'placebo', 'PJZY-59A1-N4W4'],
      [4, 1, 6, 4, 'placebo', 'VR0A-GTNM-5VED'],
      [5, 1, 6, 5, 'anakinra', 'YH9P-TKBH-W6DZ'],
      [6, 1, 6, 6, 'anakinra', 'J9GF-F4HK-0Y46'],
      [7, 2, 6, 1, 'placebo', 'R0QJ-000V-DAKC'],
      [8, 2, 6, 2, 'anakinra', 'GF5N-5FQN-0KCP'],
      [9, 2, 6, 3, 'anakinra', 'DK8A-5VFE-CTSK'],
      [10, 2, 6, 4, 'anakinra', 'NWPK-C9W3-1ZSV'],
      [11, 2, 6, 5, 'placebo', 'H8GB-E94S-V29N'],
      [12, 2, 6, 6, 'placebo', '3ZVB-E74E-A1A0'],
      [13, 3, 2, 1, 'placebo', '40S7-QTRT-THHS'],
      [14, 3, 2, 2, 'anakinra', '9TB7-06X0-PP19'],
    ],
  );
});

test('regenerating gives the same list; a longer list extends a shorter one', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.nat(120), fc.nat(120), (seed, a, b) => {
      const [short, long] = [Math.min(a, b), Math.max(a, b)];
      const longList = list(IMMUNOSEP_TRIAL, seed, MALS_ATHENS, long);
      assert.deepEqual(list(IMMUNOSEP_TRIAL, seed, MALS_ATHENS, long), longList);
      assert.deepEqual(list(IMMUNOSEP_TRIAL, seed, MALS_ATHENS, short), longList.slice(0, short));
      if (long > 0) assert.deepEqual(slotAt(IMMUNOSEP_TRIAL, seed, MALS_ATHENS, long), { ok: true, value: longList[long - 1] });
    }),
    { numRuns: 50 },
  );
});

test('different strata and seeds give different lists', () => {
  const arms = (seed: Uint8Array, key: string) => list(IMMUNOSEP_TRIAL, seed, key, 40).map((s) => s.armId.replace('interferon-gamma', 'anakinra'));
  assert.notDeepEqual(arms(SEED, MALS_ATHENS), arms(SEED, 'immuneClass=MALS;site=lyon'));
  assert.notDeepEqual(arms(SEED, MALS_ATHENS), arms(SEED, 'immuneClass=immunoparalysis;site=athens'));
  assert.notDeepEqual(arms(SEED, MALS_ATHENS), arms(new Uint8Array(32).fill(0xab), MALS_ATHENS));
});

function assertBlocksBalanced(definition: TrialDefinition, slots: SequenceSlot[], armIds: string[], ratio: number[]) {
  const blocks = new Map<number, SequenceSlot[]>();
  for (const slot of slots) blocks.set(slot.block, [...(blocks.get(slot.block) ?? []), slot]);
  let expectedPosition = 1;
  for (const [block, members] of blocks) {
    const size = members[0]!.blockSize;
    assert.ok(definition.blockSizes.includes(size), `block ${block} size ${size}`);
    assert.deepEqual(
      members.map((m) => [m.position, m.positionInBlock, m.blockSize]),
      members.map((_, i) => [expectedPosition + i, i + 1, size]),
    );
    expectedPosition += members.length;
    if (members.length === size) {
      const total = ratio.reduce((a, b) => a + b, 0);
      armIds.forEach((arm, i) => {
        assert.equal(members.filter((m) => m.armId === arm).length, (size * ratio[i]!) / total, `block ${block}: ${arm}`);
      });
    }
  }
}

test('every complete block is balanced 1:1 and block sizes come from {2, 4, 6}', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 200 }), (seed, length) => {
      const slots = list(IMMUNOSEP_TRIAL, seed, 'immuneClass=immunoparalysis;site=nijmegen', length);
      assert.equal(slots.length, length);
      assertBlocksBalanced(IMMUNOSEP_TRIAL, slots, ['interferon-gamma', 'placebo'], [1, 1]);
      // Whatever the length, the imbalance is at most half the largest block.
      const active = slots.filter((s) => s.armId === 'interferon-gamma').length;
      assert.ok(Math.abs(2 * active - length) <= 6);
    }),
    { numRuns: 100 },
  );
});

test('block sizes vary: all three sizes occur in a long list, roughly equally often', () => {
  const slots = list(IMMUNOSEP_TRIAL, SEED, MALS_ATHENS, 6000);
  const sizes = new Map<number, number>();
  for (const s of slots) if (s.positionInBlock === 1) sizes.set(s.blockSize, (sizes.get(s.blockSize) ?? 0) + 1);
  const blocks = [...sizes.values()].reduce((a, b) => a + b, 0);
  for (const size of [2, 4, 6]) {
    const share = (sizes.get(size) ?? 0) / blocks;
    assert.ok(share > 0.28 && share < 0.39, `size ${size}: ${share}`);
  }
});

test('unequal ratios: a 2:1 design fills each block 2:1', () => {
  const definition: TrialDefinition = {
    ...IMMUNOSEP_TRIAL,
    strata: {
      MALS: {
        arms: [
          { id: 'anakinra', label: 'anakinra', allocation: 'active', ratio: 2 },
          { id: 'placebo', label: 'placebo', allocation: 'placebo', ratio: 1 },
        ],
      },
    },
    blockSizes: [3, 6],
  };
  assert.ok(validateDefinition(definition).ok);
  assertBlocksBalanced(definition, list(definition, SEED, MALS_ATHENS, 300), ['anakinra', 'placebo'], [2, 1]);
  const bad = validateDefinition({ ...definition, blockSizes: [2, 3] });
  assert.deepEqual(bad.ok ? [] : bad.error, [{ path: 'blockSizes', message: '2 is not a multiple of the MALS ratio sum 3' }]);
});

test('kit numbers: well-formed, unique across strata and positions, and independent of the arm', () => {
  const keys = ['athens', 'lyon', 'nijmegen'].flatMap((site) => [`immuneClass=MALS;site=${site}`, `immuneClass=immunoparalysis;site=${site}`]);
  const kits = keys.flatMap((key) => list(IMMUNOSEP_TRIAL, SEED, key, 2000).map((s) => s.kitNumber));
  assert.equal(new Set(kits).size, kits.length);
  for (const kit of kits.slice(0, 50)) assert.match(kit, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  // The same slot under a definition with the arms listed the other way round: different arms,
  // identical kit numbers - the number is a function of (seed, trial, stratum, position) only.
  const swapped: TrialDefinition = {
    ...IMMUNOSEP_TRIAL,
    strata: { ...IMMUNOSEP_TRIAL.strata, MALS: { arms: [...IMMUNOSEP_TRIAL.strata.MALS!.arms].reverse() } },
  };
  const original = list(IMMUNOSEP_TRIAL, SEED, MALS_ATHENS, 200);
  const reordered = list(swapped, SEED, MALS_ATHENS, 200);
  assert.notDeepEqual(
    original.map((s) => s.armId),
    reordered.map((s) => s.armId),
  );
  assert.deepEqual(
    original.map((s) => s.kitNumber),
    reordered.map((s) => s.kitNumber),
  );
  assert.equal(kitNumber(SEED, 'immunosep', MALS_ATHENS, 1), 'ADXA-2CF4-M5D5');
  assert.notEqual(kitNumber(SEED, 'other-trial', MALS_ATHENS, 1), 'ADXA-2CF4-M5D5');
});

test('stratum keys: canonical order, every factor required, values checked', () => {
  assert.deepEqual(stratumKey(IMMUNOSEP_TRIAL, { site: 'athens', immuneClass: 'MALS' }), { ok: true, value: MALS_ATHENS });
  assert.deepEqual(parseStratumKey(IMMUNOSEP_TRIAL, MALS_ATHENS), { ok: true, value: { immuneClass: 'MALS', site: 'athens' } });
  assert.equal(stratumKey(IMMUNOSEP_TRIAL, { immuneClass: 'MALS' }).ok, false);
  assert.equal(stratumKey(IMMUNOSEP_TRIAL, { immuneClass: 'unclassified', site: 'athens' }).ok, false);
  assert.equal(stratumKey(IMMUNOSEP_TRIAL, { immuneClass: 'MALS', site: 'a;b' }).ok, false);
  assert.equal(stratumKey(IMMUNOSEP_TRIAL, { immuneClass: 'MALS', site: 'athens', covid19: 'yes' }).ok, false);
  assert.equal(parseStratumKey(IMMUNOSEP_TRIAL, 'site=athens;immuneClass=MALS').ok, false);
  const withCovid: TrialDefinition = {
    ...IMMUNOSEP_TRIAL,
    stratificationFactors: [...IMMUNOSEP_TRIAL.stratificationFactors, { name: 'covid19', description: 'COVID-19', values: ['yes', 'no'] }],
  };
  assert.deepEqual(stratumKey(withCovid, { immuneClass: 'MALS', site: 'athens', covid19: 'no' }), { ok: true, value: `${MALS_ATHENS};covid19=no` });
  assert.equal(stratumKey(withCovid, { immuneClass: 'MALS', site: 'athens', covid19: 'maybe' }).ok, false);
  assert.equal(generateSequence(IMMUNOSEP_TRIAL, SEED, 'immuneClass=MALS', 2).ok, false);
  assert.equal(generateSequence(IMMUNOSEP_TRIAL, SEED, MALS_ATHENS, -1).ok, false);
});

test('definition validation names each problem', () => {
  const broken = {
    ...IMMUNOSEP_TRIAL,
    id: 'bad id',
    sofaPreset: 'sofa-99',
    stratificationFactors: [{ name: 'site', description: '' }],
    blockSizes: [0],
  } as TrialDefinition;
  const result = validateDefinition(broken);
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.ok ? [] : result.error.map((p) => p.path),
    ['id', 'sofaPreset', 'stratificationFactors', 'blockSizes'],
  );
});
