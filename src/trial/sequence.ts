/**
 * The sealed randomisation list of one stratum: permuted blocks of randomly varying size,
 * drawn from the trial's recorded seed (drbg.ts). `generateSequence` is a pure function of
 * (definition, seed, stratum key, length), so a statistician holding the seed regenerates the
 * exact list; a longer list extends a shorter one (same prefix), so slots may be generated
 * on demand as patients arrive without changing any earlier slot.
 *
 * Per block, from the stratum's stream: the block size is blockSizes[uniformBelow(count)];
 * the block holds blockSize x ratio / ratioSum slots of each arm, listed in the definition's
 * arm order and then shuffled (Fisher-Yates, unbiased draws).
 *
 * Kit numbers: every slot has one, derived from the seed, the stratum key and the position,
 * so it reveals neither the arm nor the order; see kitNumber.
 */
import type { TargetedClass } from '../clinical/therapy.ts';
import { type Result, err, ok } from '../clinical/types.ts';
import { type TrialDefinition, armsOf, parseStratumKey, validateDefinition } from './definition.ts';
import { createStream, shuffle, uniformBelow } from './drbg.ts';

export interface SequenceSlot {
  /** 1-based position within the stratum. */
  position: number;
  /** 1-based block number and the 1-based position inside that block. */
  block: number;
  blockSize: number;
  positionInBlock: number;
  armId: string;
  kitNumber: string;
}

/** Longest list generated in one call (far beyond any stratum of a real trial). */
export const MAX_SEQUENCE_LENGTH = 100_000;

export function generateSequence(
  definition: TrialDefinition,
  seed: Uint8Array,
  stratumKey: string,
  length: number,
): Result<SequenceSlot[], string> {
  const slots = generateArms(definition, seed, stratumKey, length);
  if (!slots.ok) return slots;
  return ok(slots.value.map((slot) => ({ ...slot, kitNumber: kitNumber(seed, definition.id, stratumKey, slot.position) })));
}

/** The slot at a 1-based position of a stratum's list (the kit number of that slot only is derived). */
export function slotAt(definition: TrialDefinition, seed: Uint8Array, stratumKey: string, position: number): Result<SequenceSlot, string> {
  if (!Number.isInteger(position) || position < 1) return err('position must be a positive integer');
  const slots = generateArms(definition, seed, stratumKey, position);
  if (!slots.ok) return slots;
  return ok({ ...slots.value[position - 1]!, kitNumber: kitNumber(seed, definition.id, stratumKey, position) });
}

/** The list without kit numbers: the permuted blocks drawn from the stratum's stream. */
function generateArms(
  definition: TrialDefinition,
  seed: Uint8Array,
  stratumKey: string,
  length: number,
): Result<Array<Omit<SequenceSlot, 'kitNumber'>>, string> {
  const valid = validateDefinition(definition);
  if (!valid.ok) return err(`invalid trial definition: ${valid.error.map((p) => `${p.path} ${p.message}`).join('; ')}`);
  if (!Number.isInteger(length) || length < 0 || length > MAX_SEQUENCE_LENGTH) {
    return err(`length must be an integer between 0 and ${MAX_SEQUENCE_LENGTH}`);
  }
  const factors = parseStratumKey(definition, stratumKey);
  if (!factors.ok) return err(factors.error);
  const arms = armsOf(definition, factors.value.immuneClass as TargetedClass)!;
  const ratioSum = arms.reduce((sum, arm) => sum + arm.ratio, 0);

  const source = createStream(seed, 'allocation', `${definition.id}\u0000${stratumKey}`);
  const slots: Array<Omit<SequenceSlot, 'kitNumber'>> = [];
  for (let block = 1; slots.length < length; block++) {
    const blockSize = definition.blockSizes[uniformBelow(definition.blockSizes.length, source)]!;
    const ordered = arms.flatMap((arm) => Array<string>((blockSize * arm.ratio) / ratioSum).fill(arm.id));
    shuffle(ordered, source).forEach((armId, i) => {
      slots.push({ position: slots.length + 1, block, blockSize, positionInBlock: i + 1, armId });
    });
  }
  return ok(slots.slice(0, length));
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Kit number of a slot: 60 bits of the seed-keyed stream for (trial, stratum, position) in
 * Crockford base32 (no I, L, O, U), as "XXXX-XXXX-XXXX". Unpredictable without the seed and
 * unrelated to the arm or to the order of randomisation. Uniqueness within a trial is enforced
 * by the database; two of n kits colliding has probability about n^2 / 2^61 (below 1e-8 for
 * 100 000 kits), and a collision would stop that randomisation with an error, never reuse a kit.
 */
export function kitNumber(seed: Uint8Array, trialId: string, stratumKey: string, position: number): string {
  const source = createStream(seed, 'kit', `${trialId}\u0000${stratumKey}\u0000${position}`);
  const bits = (BigInt(source.nextUint32()) << 32n) | BigInt(source.nextUint32());
  let code = '';
  for (let i = 0; i < 12; i++) code += CROCKFORD[Number((bits >> BigInt(64 - 5 * (i + 1))) & 31n)];
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}`;
}
