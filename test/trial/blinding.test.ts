import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BlindedAllocation,
  type UnblindedAllocation,
  allocationViewFor,
  blind,
  kitContents,
  kitLabel,
} from '../../src/trial/blinding.ts';
import { IMMUNOSEP_TRIAL } from '../../src/trial/definition.ts';

// Compile-time: the blinded type has none of the fields that carry an arm.
type ArmFields = 'arm' | 'kitContents' | 'position' | 'block' | 'blockSize' | 'positionInBlock';
const noArmField: Extract<keyof BlindedAllocation, ArmFields> extends never ? true : false = true;

test('kit contents: the active component follows the stratum drug; placebo kits are saline twice', () => {
  assert.deepEqual(kitContents('MALS', 'active'), {
    iv: { route: 'IV', volumeMl: 20, contents: 'anakinra (recombinant interleukin-1 receptor antagonist) 200 mg', active: true },
    sc: { route: 'SC', volumeMl: 0.5, contents: 'normal saline (0.9% NaCl)', active: false },
  });
  assert.deepEqual(kitContents('immunoparalysis', 'active'), {
    iv: { route: 'IV', volumeMl: 20, contents: 'normal saline (0.9% NaCl)', active: false },
    sc: { route: 'SC', volumeMl: 0.5, contents: 'recombinant human interferon-gamma-1b 100 ug', active: true },
  });
  for (const stratum of ['MALS', 'immunoparalysis'] as const) {
    const placebo = kitContents(stratum, 'placebo');
    assert.equal(placebo.iv.active || placebo.sc.active, false);
    assert.equal(placebo.iv.contents, 'normal saline (0.9% NaCl)');
    assert.equal(placebo.sc.contents, 'normal saline (0.9% NaCl)');
  }
});

test('kit labels are identical for every kit apart from the kit number', () => {
  const a = kitLabel(IMMUNOSEP_TRIAL, 'ADXA-2CF4-M5D5');
  const b = kitLabel(IMMUNOSEP_TRIAL, 'XQ71-5CER-G50B');
  assert.deepEqual({ ...a, kitNumber: '' }, { ...b, kitNumber: '' });
  assert.deepEqual(a.components, [
    { route: 'IV', volumeMl: 20, text: 'blinded study infusion' },
    { route: 'SC', volumeMl: 0.5, text: 'blinded study injection' },
  ]);
  assert.doesNotMatch(JSON.stringify(a), /anakinra|interferon|placebo|saline|active/i);
});

const unblinded: UnblindedAllocation = {
  view: 'unblinded',
  trialId: 'immunosep',
  patientId: 'P1',
  siteId: 'athens',
  immuneClass: 'MALS',
  stratumKey: 'immuneClass=MALS;site=athens',
  kitNumber: 'ADXA-2CF4-M5D5',
  randomisedAt: '2026-01-05T08:00:00.000Z',
  randomisedBy: 'user:inv',
  unblinded: false,
  withdrawn: false,
  position: 1,
  block: 1,
  blockSize: 6,
  positionInBlock: 1,
  arm: { id: 'placebo', label: 'placebo (saline)', allocation: 'placebo' },
  kitContents: kitContents('MALS', 'placebo'),
};

test('blind() keeps exactly the blinded fields, even when handed an unblinded allocation', () => {
  assert.ok(noArmField);
  const blinded = blind(unblinded);
  assert.deepEqual(Object.keys(blinded).sort(), [
    'immuneClass',
    'kitNumber',
    'patientId',
    'randomisedAt',
    'randomisedBy',
    'siteId',
    'stratumKey',
    'trialId',
    'unblinded',
    'view',
    'withdrawn',
  ]);
  assert.equal(blinded.view, 'blinded');
  assert.doesNotMatch(JSON.stringify(blinded), /placebo|saline|active|"position"|block/i);
});

test('only the pharmacist role gets the unblinded view', () => {
  assert.equal(allocationViewFor(['pharmacist']), 'unblinded');
  assert.equal(allocationViewFor(['investigator', 'pharmacist']), 'unblinded');
  for (const role of ['investigator', 'clinician', 'monitor', 'statistician', 'admin']) assert.equal(allocationViewFor([role]), 'blinded', role);
  assert.equal(allocationViewFor([]), 'blinded');
});
