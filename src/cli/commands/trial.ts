/**
 * `immunoguide trial sequence`: regenerates a stratum's randomisation list from a trial seed,
 * so a statistician can verify the list offline (src/trial/sequence.ts defines it). Uses the
 * built-in ImmunoSep definition unless --definition names a definition JSON file. The output
 * is unblinded by nature: whoever holds the seed knows every arm.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { IMMUNOSEP_TRIAL, type TrialDefinition, validateDefinition } from '../../trial/definition.ts';
import { parseSeedHex, seedFingerprint } from '../../trial/drbg.ts';
import { MAX_SEQUENCE_LENGTH, generateSequence } from '../../trial/sequence.ts';
import { UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

function readDefinition(file: string | undefined, cwd: string): TrialDefinition {
  if (file === undefined) return IMMUNOSEP_TRIAL;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path.resolve(cwd, file), 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the trial definition ${file}: ${(error as Error).message}`);
  }
  const valid = validateDefinition(parsed as TrialDefinition);
  if (!valid.ok) throw new UsageError(`invalid trial definition ${file}: ${valid.error.map((p) => `${p.path} ${p.message}`).join('; ')}`);
  return valid.value;
}

export const register: RegisterCommand = (program, ctx) => {
  const trial: Command = program.command('trial').description('trial operations: randomisation lists');

  trial
    .command('sequence')
    .description('regenerate the randomisation list of one stratum from the trial seed (for verification)')
    .requiredOption('--seed <hex>', 'the trial seed, hexadecimal (32-128 digits)')
    .requiredOption('--stratum <key>', 'stratum key, e.g. "immuneClass=MALS;site=athens"')
    .requiredOption('--length <n>', `number of slots (0-${MAX_SEQUENCE_LENGTH})`)
    .option('--definition <file>', 'trial definition JSON (default: the built-in ImmunoSep definition)')
    .option('--json', 'machine-readable output')
    .action((options: { seed: string; stratum: string; length: string; definition?: string; json?: boolean }) => {
      const seed = parseSeedHex(options.seed);
      if (!seed.ok) throw new UsageError(`--seed: ${seed.error}`);
      if (!/^\d+$/.test(options.length)) throw new UsageError('--length must be a non-negative integer');
      const definition = readDefinition(options.definition, ctx.cwd);
      const list = generateSequence(definition, seed.value, options.stratum, Number(options.length));
      if (!list.ok) throw new UsageError(list.error);

      const tally = new Map<string, number>();
      for (const slot of list.value) tally.set(slot.armId, (tally.get(slot.armId) ?? 0) + 1);
      const counts = Object.fromEntries(tally);
      const report = {
        definition: { id: definition.id, version: definition.version, sequenceAlgorithm: definition.sequenceAlgorithm, blockSizes: definition.blockSizes },
        stratumKey: options.stratum,
        seedSha256: seedFingerprint(seed.value),
        length: list.value.length,
        counts,
        slots: list.value,
        unconfirmed: definition.unconfirmed,
      };
      ctx.print(options.json === true, report, () =>
        [
          `trial ${definition.id} ${definition.version} (${definition.sequenceAlgorithm}), stratum ${options.stratum}`,
          `seed SHA-256 ${report.seedSha256}`,
          'position  block  size  arm                 kit',
          ...list.value.map(
            (s) =>
              `${String(s.position).padStart(8)}  ${String(s.block).padStart(5)}  ${String(s.blockSize).padStart(4)}  ${s.armId.padEnd(18)}  ${s.kitNumber}`,
          ),
          `counts: ${Object.entries(counts).map(([arm, n]) => `${arm} ${n}`).join(', ') || 'none'}`,
          ...definition.unconfirmed.map((note) => `note: ${note}`),
        ].join('\n'),
      );
    });
};
