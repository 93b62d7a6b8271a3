import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';

interface ClassifyJson {
  class: string;
  ruleSet: { id: string; version: string };
  evaluatedAt: string;
  evidence: Array<{ input: string; operator: string; threshold: number; thresholdUnit: string; result: boolean; text: string; value: number }>;
  inputs: Array<{ concept: string; value: number; unit: string; reported: { value: number; unit: string } }>;
  therapy: { drug: string; doseAmount: number; doseUnit: string; route: string; intervalHours: number; durationDays: number } | null;
  therapyNote?: string;
  missing?: string[];
  possible?: string[];
}

async function classify(...args: string[]) {
  const run = await runCli(['classify', ...args, '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  return run.json<ClassifyJson>();
}

describe('immunoguide classify: the required checks', () => {
  test('--ferritin 10000 --ferritin-unit pmol/L --json is MALS, with anakinra', async () => {
    const result = await classify('--ferritin', '10000', '--ferritin-unit', 'pmol/L');
    assert.equal(result.class, 'MALS');
    assert.deepEqual(result.ruleSet, { id: 'immunosep', version: '1.0.0' });
    assert.equal(result.evidence[0]?.text, 'ferritin 4450.37828215 ng/mL > 4420 ng/mL');
    assert.deepEqual(result.inputs[0]?.reported, { value: 10000, unit: 'pmol/L' });
    assert.equal(result.therapy?.drug, 'anakinra');
    assert.deepEqual(
      [result.therapy?.doseAmount, result.therapy?.doseUnit, result.therapy?.route, result.therapy?.intervalHours, result.therapy?.durationDays],
      [200, 'mg', 'IV', 8, 15],
    );
    assert.ok(!Number.isNaN(Date.parse(result.evaluatedAt)), 'values are taken as measured now');
  });

  test('--ferritin 4.5 --ferritin-unit mg/L is MALS (human output names class, rule set, comparison, therapy)', async () => {
    const run = await runCli(['classify', '--ferritin', '4.5', '--ferritin-unit', 'mg/L']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^class: MALS$/m);
    assert.match(run.stdout, /^rule set: immunosep 1\.0\.0/m);
    assert.match(run.stdout, /ferritin 4500 ng\/mL > 4420 ng\/mL/);
    assert.match(run.stdout, /reported as 4\.5 mg\/L/);
    assert.match(run.stdout, /^therapy: anakinra 200 mg IV every 8 h for 15 days$/m);
  });

  test('--ferritin 4420 --hla-dr 4999 is immunoparalysis, with interferon-gamma', async () => {
    const result = await classify('--ferritin', '4420', '--hla-dr', '4999');
    assert.equal(result.class, 'immunoparalysis');
    assert.deepEqual(
      result.evidence.map((c) => [c.input, c.operator, c.threshold, c.result]),
      [
        ['ferritin', '>', 4420, false],
        ['hla_dr', '<', 5000, true],
      ],
    );
    assert.equal(result.therapy?.drug, 'interferon-gamma-1b');
    assert.equal(result.therapy?.route, 'SC');
  });

  test('--hla-dr 20 --hla-dr-unit % is refused with the reason (exit 1)', async () => {
    const run = await runCli(['classify', '--hla-dr', '20', '--hla-dr-unit', '%']);
    assert.equal(run.exitCode, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /refused input --hla-dr: monocyte HLA-DR 20 %/);
    assert.match(run.stderr, /not convertible to molecules per monocyte/);
    const json = await runCli(['classify', '--ferritin', '3000', '--hla-dr', '20', '--hla-dr-unit', '%', '--json']);
    assert.equal(json.exitCode, 1);
    const error = json.json<{ error: { kind: string; details: { kind: string; concept: string } } }>().error;
    assert.equal(error.kind, 'failure');
    assert.deepEqual([error.details.kind, error.details.concept], ['refused', 'hla_dr']);
  });
});

describe('immunoguide classify: other classes, rule sets and errors', () => {
  test('5000 molecules/cell is unclassified, without therapy', async () => {
    const result = await classify('--ferritin', '4420', '--hla-dr', '5000', '--hla-dr-unit', 'molecules/cell');
    assert.equal(result.class, 'unclassified');
    assert.equal(result.therapy, null);
    assert.match(result.therapyNote ?? '', /not eligible/);
  });

  test('ferritin alone below the cut-off is indeterminate (exit 0), listing what is missing', async () => {
    const result = await classify('--ferritin', '3000', '--ferritin-unit', 'ug/L');
    assert.equal(result.class, 'indeterminate');
    assert.deepEqual(result.missing, ['hla_dr']);
    assert.deepEqual(result.possible, ['immunoparalysis', 'unclassified']);
    assert.equal(result.therapy, null);
  });

  test('--rule-set provide-2017 takes HLA-DR in %', async () => {
    const result = await classify('--ferritin', '3000', '--hla-dr', '29', '--hla-dr-unit', '%', '--rule-set', 'provide-2017');
    assert.equal(result.class, 'immunoparalysis');
    assert.deepEqual(result.ruleSet, { id: 'provide-2017', version: '1.0.0' });
    assert.equal(result.therapy, null, 'ImmunoSep regimens are planned for the immunosep rule set only');
    const refused = await runCli(['classify', '--ferritin', '3000', '--hla-dr', '4000', '--rule-set', 'provide-2017']);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stderr, /not convertible to % HLA-DR positive monocytes/);
  });

  test('--rule-set suPAR with --supar', async () => {
    assert.equal((await classify('--supar', '6', '--rule-set', 'suPAR')).class, 'MALS');
    assert.equal((await classify('--supar', '5.9', '--rule-set', 'suPAR')).class, 'unclassified');
  });

  test('implausible values are refused (exit 1)', async () => {
    const negative = await runCli(['classify', '--ferritin', '-5']);
    assert.equal(negative.exitCode, 1);
    assert.match(negative.stderr, /ferritin -5 ng\/mL is implausible: a negative value/);
    assert.equal((await runCli(['classify', '--ferritin', '2', '--ferritin-unit', 'g/L'])).exitCode, 1);
  });

  test('usage errors (exit 2): unknown rule set, non-numeric value, bad unit', async () => {
    const unknownRuleSet = await runCli(['classify', '--ferritin', '3000', '--rule-set', 'immunosep-2']);
    assert.equal(unknownRuleSet.exitCode, 2);
    assert.match(unknownRuleSet.stderr, /unknown rule set "immunosep-2" \(known: immunosep, provide-2017, hscore, suPAR\)/);
    for (const args of [
      ['--ferritin', 'abc'],
      ['--ferritin', '0x10'],
      ['--ferritin', ''],
      ['--ferritin', '3000', '--hla-dr', 'low'],
      ['--ferritin', '3000', '--ferritin-unit', 'nanograms'],
      ['--ferritin', '3000', '--ferritin-unit', 'mg'],
      ['--ferritin', '3000', '--hla-dr', '4000', '--hla-dr-unit', 'cells'],
    ]) {
      const run = await runCli(['classify', ...args]);
      assert.equal(run.exitCode, 2, args.join(' '));
      assert.match(run.stderr, /usage error/);
    }
    const json = await runCli(['classify', '--ferritin', 'abc', '--json']);
    assert.equal(json.json<{ error: { kind: string } }>().error.kind, 'usage');
  });
});
