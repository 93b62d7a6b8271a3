import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, sha256Hex } from '../../src/trial/canonical.ts';
import { IMMUNOSEP_TRIAL, type TrialDefinition } from '../../src/trial/definition.ts';
import { decideRandomisation, evidenceDigest } from '../../src/trial/randomisation.ts';
import { eligibility, evidenceFor } from '../support/trial.ts';

const request = (evidence: unknown, extra: object = {}) => ({ patientId: 'P1', siteId: 'athens', evidence, ...extra });

test('an eligible MALS patient is randomised in the MALS stratum of their site', () => {
  const evidence = evidenceFor('MALS');
  const decision = decideRandomisation(IMMUNOSEP_TRIAL, request(evidence));
  assert.deepEqual(decision, {
    ok: true,
    value: {
      immuneClass: 'MALS',
      stratumKey: 'immuneClass=MALS;site=athens',
      factors: { immuneClass: 'MALS', site: 'athens' },
      evidenceSha256: sha256Hex(canonicalJson(JSON.parse(JSON.stringify(evidence)))),
    },
  });
  assert.equal(decideRandomisation(IMMUNOSEP_TRIAL, request(evidenceFor('immunoparalysis'))).ok, true);
});

test('the evidence digest does not depend on key order', () => {
  assert.equal(evidenceDigest({ a: 1, b: [1, { c: 2, d: 3 }] }), evidenceDigest({ b: [1, { d: 3, c: 2 }], a: 1 }));
});

test('not eligible or incomplete screening is refused with the criteria named', () => {
  const notEligible = decideRandomisation(IMMUNOSEP_TRIAL, request(evidenceFor('MALS', 'not-eligible')));
  assert.deepEqual(notEligible, {
    ok: false,
    error: {
      kind: 'not-eligible',
      message: 'the patient is not eligible under immunosep-eligibility 1.0.0: failing: exclusion-neutropenia',
      failing: ['exclusion-neutropenia'],
      unknown: [],
    },
  });
  const incomplete = decideRandomisation(IMMUNOSEP_TRIAL, request(evidenceFor('MALS', 'incomplete')));
  assert.equal(incomplete.ok ? '' : incomplete.error.message, 'the patient is not yet known to be eligible (screening incomplete) under immunosep-eligibility 1.0.0: unknown: inclusion-consent');
});

test('eligibility that says eligible while a criterion does not pass is refused as inconsistent', () => {
  const inconsistent = { ...evidenceFor('MALS'), eligibility: { ...eligibility('not-eligible'), status: 'eligible' } };
  const decision = decideRandomisation(IMMUNOSEP_TRIAL, request(inconsistent));
  assert.equal(decision.ok ? '' : decision.error.kind, 'not-eligible');
  assert.match(decision.ok ? '' : decision.error.message, /inconsistent/);
  const unknownResult = evidenceFor('MALS');
  unknownResult.eligibility.results[0] = { ...unknownResult.eligibility.results[0]!, passes: null };
  const unknown = decideRandomisation(IMMUNOSEP_TRIAL, request(unknownResult));
  assert.equal(unknown.ok ? '' : unknown.error.kind, 'not-eligible');
});

test('unclassified and indeterminate patients are not randomised, and say why', () => {
  const unclassified = decideRandomisation(IMMUNOSEP_TRIAL, request(evidenceFor('unclassified')));
  assert.deepEqual(unclassified, {
    ok: false,
    error: { kind: 'no-stratum', message: 'unclassified patients have no targeted therapy and are not randomised', className: 'unclassified' },
  });
  const indeterminate = evidenceFor('MALS');
  (indeterminate.classification as { class: string }).class = 'indeterminate';
  const refused = decideRandomisation(IMMUNOSEP_TRIAL, request(indeterminate));
  assert.equal(refused.ok ? '' : refused.error.message, 'the immune class is indeterminate (not enough valid data): classify again before randomising');
  const malsOnly: TrialDefinition = { ...IMMUNOSEP_TRIAL, strata: { MALS: IMMUNOSEP_TRIAL.strata.MALS! } };
  const noStratum = decideRandomisation(malsOnly, request(evidenceFor('immunoparalysis')));
  assert.equal(noStratum.ok ? '' : noStratum.error.message, 'trial immunosep does not randomise immunoparalysis patients');
});

test('malformed evidence, evidence of another patient and derived factors passed in are refused', () => {
  const cases: Array<[unknown, string]> = [
    [undefined, 'invalid-evidence'],
    [{ classification: { class: 'MALS' } }, 'invalid-evidence'],
    [{ ...evidenceFor('MALS'), eligibility: { ...eligibility(), failing: 'none' } }, 'invalid-evidence'],
    [{ ...evidenceFor('MALS'), extra: Number.NaN }, 'invalid-evidence'],
    [{ ...evidenceFor('MALS'), classification: { ...evidenceFor('MALS').classification, patientId: 'P2' } }, 'evidence-patient-mismatch'],
  ];
  for (const [evidence, kind] of cases) {
    const decision = decideRandomisation(IMMUNOSEP_TRIAL, request(evidence));
    assert.equal(decision.ok ? 'ok' : decision.error.kind, kind);
  }
  const withPatient = { ...evidenceFor('MALS'), classification: { ...evidenceFor('MALS').classification, patientId: 'P1' } };
  assert.equal(decideRandomisation(IMMUNOSEP_TRIAL, request(withPatient)).ok, true);
  const derived = decideRandomisation(IMMUNOSEP_TRIAL, request(evidenceFor('MALS'), { extraFactors: { site: 'lyon' } }));
  assert.equal(derived.ok ? '' : derived.error.kind, 'invalid-factor');
  const badSite = decideRandomisation(IMMUNOSEP_TRIAL, { patientId: 'P1', siteId: 'a b', evidence: evidenceFor('MALS') });
  assert.equal(badSite.ok ? '' : badSite.error.kind, 'invalid-factor');
});
