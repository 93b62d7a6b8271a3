import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CITATIONS,
  DEFAULT_IMMUNE_RULE_SET,
  IMMUNE_RULE_SETS,
  type ImmuneRuleSet,
  type Threshold,
  findImmuneRuleSet,
} from '../../../src/clinical/immune/index.ts';
import { CONCEPT_UNITS } from '../../../src/clinical/units.ts';
import type { Concept } from '../../../src/clinical/types.ts';

function thresholdsOf(ruleSet: ImmuneRuleSet): Threshold[] {
  switch (ruleSet.kind) {
    case 'ferritin-hla-dr':
      return [
        ruleSet.thresholds.malsFerritin,
        ruleSet.thresholds.immunoparalysisHlaDr,
        ...(ruleSet.reversal ? Object.values(ruleSet.reversal) : []),
      ];
    case 'score':
      return [
        ruleSet.malsScore,
        ...ruleSet.items.flatMap((i) =>
          i.kind === 'count' ? i.criteria.flatMap((c) => (c.kind === 'threshold' ? [c.threshold] : [])) : [],
        ),
      ];
    case 'single-marker':
      return [ruleSet.marker];
  }
}

describe('immune rule set data', () => {
  test('the registry: unique ids, semantic versions, immunosep by default', () => {
    const ids = IMMUNE_RULE_SETS.map((r) => r.id);
    assert.deepEqual(ids, ['immunosep', 'provide-2017', 'hscore', 'suPAR']);
    for (const ruleSet of IMMUNE_RULE_SETS) assert.match(ruleSet.version, /^\d+\.\d+\.\d+$/, ruleSet.id);
    assert.equal(DEFAULT_IMMUNE_RULE_SET.id, 'immunosep');
    assert.equal(findImmuneRuleSet('provide-2017')?.id, 'provide-2017');
    assert.equal(findImmuneRuleSet('nope'), undefined);
  });

  test('every threshold cites a known source and uses the canonical unit of its concept', () => {
    for (const ruleSet of IMMUNE_RULE_SETS) {
      for (const citation of ruleSet.citations) assert.ok(CITATIONS[citation], `${ruleSet.id}: ${citation}`);
      for (const threshold of thresholdsOf(ruleSet)) {
        assert.ok(CITATIONS[threshold.source.citation], `${ruleSet.id}/${threshold.id}`);
        assert.ok(threshold.source.locator.length > 0);
        if (threshold.input in CONCEPT_UNITS) {
          assert.equal(threshold.unit, CONCEPT_UNITS[threshold.input as Concept].canonicalUnit, `${ruleSet.id}/${threshold.id}`);
        }
      }
    }
  });

  test('the ImmunoSep numbers are those of CLINICAL.md section 2', () => {
    const immunosep = findImmuneRuleSet('immunosep');
    assert.ok(immunosep?.kind === 'ferritin-hla-dr' && immunosep.reversal);
    const pick = (t: Threshold) => [t.input, t.operator, t.value, t.unit];
    assert.deepEqual(pick(immunosep.thresholds.malsFerritin), ['ferritin', '>', 4420, 'ng/mL']);
    assert.deepEqual(pick(immunosep.thresholds.immunoparalysisHlaDr), ['hla_dr', '<', 5000, '{molecules}/{cell}']);
    assert.deepEqual(pick(immunosep.reversal.malsFerritinFall), ['ferritin_fall', '>=', 15, '%']);
    assert.deepEqual(pick(immunosep.reversal.immunoparalysisHlaDr), ['hla_dr', '>', 8000, '{molecules}/{cell}']);
    assert.deepEqual(pick(immunosep.reversal.immunoparalysisFerritin), ['ferritin', '<', 4420, 'ng/mL']);
    assert.equal(immunosep.validityWindow.hours, 48);
  });
});
