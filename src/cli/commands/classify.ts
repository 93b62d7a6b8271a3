/**
 * `immunoguide classify`: the immune class of one patient from biomarker values given on the
 * command line, taken as measured now, with the comparisons that decided it and the targeted
 * therapy. Exit 0 for any class (including indeterminate), 1 for refused input (implausible
 * value, HLA-DR in % under immunosep), 2 for usage errors (unknown rule set, non-numeric
 * value, unit that is unknown or of the wrong kind).
 */
import {
  DEFAULT_IMMUNE_RULE_SET,
  IMMUNE_RULE_SETS,
  type ImmuneClassification,
  type ImmuneRuleSet,
  classifyAt,
  findImmuneRuleSet,
} from '../../clinical/immune/index.ts';
import { type Regimen, regimenFor } from '../../clinical/therapy.ts';
import type { Concept, Measurement } from '../../clinical/types.ts';
import { normalize } from '../../clinical/units.ts';
import { CommandFailure, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

interface ClassifyOptions {
  ferritin?: string;
  ferritinUnit: string;
  hlaDr?: string;
  hlaDrUnit: string;
  supar?: string;
  suparUnit: string;
  ruleSet: string;
  json?: boolean;
}

/** One biomarker given on the command line. */
interface CliInput {
  flag: string;
  concept: Concept;
  value: number;
  unit: string;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('classify')
    .description('immune class (MALS, immunoparalysis, unclassified, indeterminate) from biomarkers measured now')
    .option('--ferritin <value>', 'serum ferritin')
    .option('--ferritin-unit <ucum>', 'UCUM unit of --ferritin (ng/mL, ug/L, mg/L, pmol/L...)', 'ng/mL')
    .option('--hla-dr <value>', 'monocyte HLA-DR')
    .option('--hla-dr-unit <unit>', "'molecules/cell' (antibodies bound per monocyte) or '%' (positive monocytes)", 'molecules/cell')
    .option('--supar <value>', 'plasma suPAR (for --rule-set suPAR)')
    .option('--supar-unit <ucum>', 'UCUM unit of --supar', 'ng/mL')
    .option('--rule-set <id>', `rule set: ${IMMUNE_RULE_SETS.map((r) => r.id).join(', ')}`, DEFAULT_IMMUNE_RULE_SET.id)
    .option('--json', 'machine-readable output')
    .action((options: ClassifyOptions) => {
      const ruleSet = findImmuneRuleSet(options.ruleSet);
      if (ruleSet === undefined) {
        throw new UsageError(
          `unknown rule set "${options.ruleSet}" (known: ${IMMUNE_RULE_SETS.map((r) => r.id).join(', ')})`,
        );
      }
      const inputs = cliInputs(options, ruleSet);
      for (const input of inputs) check(input);

      // The shell owns the clock: command-line values are taken as measured now.
      const now = new Date().toISOString();
      const measurements: Measurement[] = inputs.map((input) => ({
        patientId: 'command-line',
        concept: input.concept,
        value: input.value,
        unit: input.unit,
        time: now,
      }));
      const result = classifyAt(measurements, now, ruleSet);
      const therapy = therapyFor(result, ruleSet);
      ctx.print(options.json === true, toJson(result, therapy), () => humanText(result, ruleSet, therapy));
    });
};

function cliInputs(options: ClassifyOptions, ruleSet: ImmuneRuleSet): CliInput[] {
  const inputs: CliInput[] = [];
  if (options.ferritin !== undefined) {
    inputs.push({ flag: '--ferritin', concept: 'ferritin', value: parseValue('--ferritin', options.ferritin), unit: options.ferritinUnit });
  }
  if (options.hlaDr !== undefined) {
    // The rule set decides which HLA-DR measure it reads; the unit is then checked against it,
    // so '%' under immunosep is refused with the reason rather than silently ignored.
    const concept = ruleSet.kind === 'ferritin-hla-dr' ? ruleSet.hlaDrConcept : 'hla_dr';
    inputs.push({ flag: '--hla-dr', concept, value: parseValue('--hla-dr', options.hlaDr), unit: options.hlaDrUnit });
  }
  if (options.supar !== undefined) {
    inputs.push({ flag: '--supar', concept: 'suPAR', value: parseValue('--supar', options.supar), unit: options.suparUnit });
  }
  return inputs;
}

/** A decimal number as written by a person: no hex, no "Infinity", no empty string. */
function parseValue(flag: string, text: string): number {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) {
    throw new UsageError(`${flag} must be a number, got "${text}"`);
  }
  return Number(text);
}

/** Refused or implausible values fail (exit 1); units that are unknown or wrong are usage errors. */
function check(input: CliInput): void {
  const normalized = normalize(input.concept, input.value, input.unit);
  if (normalized.ok) return;
  const { kind, message } = normalized.error;
  if (kind === 'unknown-unit' || kind === 'not-convertible') throw new UsageError(`${input.flag}: ${message}`);
  throw new CommandFailure(`${kind === 'refused' ? 'refused' : 'implausible'} input ${input.flag}: ${message}`, {
    kind,
    flag: input.flag,
    concept: input.concept,
    value: input.value,
    unit: input.unit,
  });
}

type TherapyOutcome = { regimen: Regimen; note?: undefined } | { regimen: null; note: string };

function therapyFor(result: ImmuneClassification, ruleSet: ImmuneRuleSet): TherapyOutcome {
  if (ruleSet.therapy.kind === 'none') return { regimen: null, note: `no regimen for rule set ${ruleSet.id}: ${ruleSet.therapy.reason}` };
  const regimen = regimenFor(result.class);
  if (regimen !== null) return { regimen };
  return {
    regimen: null,
    note:
      result.class === 'unclassified'
        ? 'none: unclassified patients are not eligible for targeted therapy'
        : 'none until the immune class is determined',
  };
}

function toJson(result: ImmuneClassification, therapy: TherapyOutcome) {
  return {
    class: result.class,
    ruleSet: result.ruleSet,
    evaluatedAt: result.evaluatedAt,
    summary: result.summary,
    evidence: result.evidence.comparisons,
    inputs: result.evidence.inputs,
    ...(result.evidence.score ? { score: result.evidence.score } : {}),
    ...(result.class === 'indeterminate' ? { missing: result.missing, stale: result.stale, possible: result.possible } : {}),
    therapy: therapy.regimen,
    ...(therapy.note === undefined ? {} : { therapyNote: therapy.note }),
  };
}

function humanText(result: ImmuneClassification, ruleSet: ImmuneRuleSet, therapy: TherapyOutcome): string {
  const lines = [
    `class: ${result.class}`,
    `rule set: ${ruleSet.id} ${ruleSet.version} (${ruleSet.title})`,
    'comparisons:',
    ...(result.evidence.comparisons.length === 0 ? ['  (none)'] : result.evidence.comparisons.map((c) => `  ${c.text}`)),
  ];
  for (const input of result.evidence.inputs.filter((i) => i.reported.value !== i.value)) {
    lines.push(`  (${input.concept} reported as ${input.reported.value} ${input.reported.unit}, converted to ${input.value} ${input.unit})`);
  }
  if (result.class === 'indeterminate') {
    if (result.missing.length > 0) lines.push(`missing: ${result.missing.join(', ')}`);
    if (result.stale.length > 0) lines.push(`stale: ${result.stale.map((s) => s.concept).join(', ')}`);
    lines.push(`still possible: ${result.possible.join(', ')}`);
  }
  lines.push(`why: ${result.summary}`);
  lines.push(`therapy: ${therapy.regimen === null ? therapy.note : therapy.regimen.description}`);
  return lines.join('\n');
}
