import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HSCORE,
  type ReversalAssessment,
  assessReversal,
  classifyAt,
} from '../../../src/clinical/immune/index.ts';
import { T0, ferritin, hlaDr, hoursAfter } from './support.ts';

const DAY = 24;
const malsBaseline = (ngPerMl = 5000) => classifyAt([ferritin(ngPerMl)], T0);
const immunoparalysisBaseline = () => classifyAt([ferritin(3000), hlaDr(4000)], T0);

function status(result: ReversalAssessment): string {
  return result.status;
}

describe('MALS reversal: ferritin fall >= 15 % from baseline', () => {
  test('a fall of exactly 15 % counts; 14.999 % does not', () => {
    const exact = assessReversal(malsBaseline(5000), [ferritin(4250, hoursAfter(3 * DAY))], hoursAfter(15 * DAY));
    assert.equal(exact.status, 'yes');
    if (exact.status !== 'yes') return;
    assert.equal(exact.firstReversalAt, hoursAfter(3 * DAY));
    assert.equal(exact.hoursFromBaseline, 72);
    assert.equal(exact.evidence.comparisons[0]?.value, 15);
    assert.match(exact.evidence.comparisons[0]?.text ?? '', /^ferritin fall from baseline 15 % >= 15 %/);

    const short = assessReversal(malsBaseline(5000), [ferritin(4250.05, hoursAfter(3 * DAY))], hoursAfter(4 * DAY));
    assert.equal(short.status, 'no');
    assert.match(short.summary, /ferritin fall from baseline 14\.999 % is not >= 15 %/);
  });

  test('exactly 15 % of a decimal baseline (4450.4 -> 3782.84 ng/mL) is still exactly 15 %', () => {
    const result = assessReversal(malsBaseline(4450.4), [ferritin(3782.84, hoursAfter(DAY))], hoursAfter(2 * DAY));
    assert.equal(result.status, 'yes');
  });

  test('the first reversal time is the first sample meeting the criterion', () => {
    const onTreatment = [
      ferritin(4600, hoursAfter(2 * DAY)),
      ferritin(3000, hoursAfter(7 * DAY)),
      ferritin(4200, hoursAfter(5 * DAY)),
    ];
    const result = assessReversal(malsBaseline(5000), onTreatment, hoursAfter(15 * DAY));
    assert.equal(result.status === 'yes' && result.firstReversalAt, hoursAfter(5 * DAY));
    assert.equal(result.status === 'yes' && result.hoursFromBaseline, 120);
  });

  test('samples after the evaluation time, and the baseline sample itself, do not count', () => {
    const later = assessReversal(malsBaseline(5000), [ferritin(1000, hoursAfter(16 * DAY))], hoursAfter(15 * DAY));
    assert.equal(status(later), 'unknown');
    const sameAsBaseline = assessReversal(malsBaseline(5000), [ferritin(1000, T0)], hoursAfter(DAY));
    assert.equal(status(sameAsBaseline), 'unknown');
  });

  test('"no" needs a valid assessment at the evaluation time; otherwise unknown, with what is stale', () => {
    const result = assessReversal(malsBaseline(5000), [ferritin(4800, hoursAfter(3 * DAY))], hoursAfter(15 * DAY));
    assert.equal(result.status, 'unknown');
    if (result.status !== 'unknown') return;
    assert.deepEqual(result.stale.map((s) => s.concept), ['ferritin']);
    assert.equal(result.evidence?.comparisons[0]?.result, false, 'the last complete assessment is kept');
    const none = assessReversal(malsBaseline(5000), [], hoursAfter(15 * DAY));
    assert.equal(none.status === 'unknown' && none.missing.join(), 'ferritin');
  });
});

describe('immunoparalysis reversal: HLA-DR > 8000 with ferritin < 4420', () => {
  test('HLA-DR 8000 is not reversal; 8000.01 is', () => {
    const at8000 = assessReversal(
      immunoparalysisBaseline(),
      [hlaDr(8000, hoursAfter(3 * DAY)), ferritin(3000, hoursAfter(3 * DAY))],
      hoursAfter(4 * DAY),
    );
    assert.equal(at8000.status, 'no');
    const above = assessReversal(
      immunoparalysisBaseline(),
      [hlaDr(8000.01, hoursAfter(3 * DAY)), ferritin(3000, hoursAfter(3 * DAY))],
      hoursAfter(4 * DAY),
    );
    assert.equal(above.status, 'yes');
    if (above.status !== 'yes') return;
    assert.deepEqual(
      above.evidence.comparisons.map((c) => c.text),
      ['HLA-DR 8000.01 molecules/monocyte > 8000 molecules/monocyte', 'ferritin 3000 ng/mL < 4420 ng/mL'],
    );
  });

  test('ferritin must be below 4420 (strictly): 4420 blocks reversal', () => {
    const result = assessReversal(
      immunoparalysisBaseline(),
      [hlaDr(9000, hoursAfter(DAY)), ferritin(4420, hoursAfter(DAY))],
      hoursAfter(2 * DAY),
    );
    assert.equal(result.status, 'no');
  });

  test('the pair is taken from samples valid at the same time; reversal when the second arrives', () => {
    const result = assessReversal(
      immunoparalysisBaseline(),
      [hlaDr(9000, hoursAfter(2 * DAY)), ferritin(2500, hoursAfter(3 * DAY))],
      hoursAfter(15 * DAY),
    );
    assert.equal(result.status === 'yes' && result.firstReversalAt, hoursAfter(3 * DAY));
    const tooFarApart = assessReversal(
      immunoparalysisBaseline(),
      [hlaDr(9000, hoursAfter(2 * DAY)), ferritin(2500, hoursAfter(5 * DAY))],
      hoursAfter(5 * DAY),
    );
    assert.equal(tooFarApart.status, 'unknown');
  });
});

describe('when reversal does not apply', () => {
  test('an unclassified baseline, a rule set without reversal criteria, a baseline from another rule set', () => {
    const unclassified = classifyAt([ferritin(3000), hlaDr(6000)], T0);
    assert.match(assessReversal(unclassified, [], hoursAfter(DAY)).summary, /baseline class is unclassified/);
    assert.match(assessReversal(malsBaseline(), [], hoursAfter(DAY), HSCORE).summary, /defines no reversal criteria/);
    const hscoreBaseline = classifyAt([], T0, HSCORE);
    assert.match(assessReversal(hscoreBaseline, [], hoursAfter(DAY)).summary, /classified under hscore/);
  });
});
