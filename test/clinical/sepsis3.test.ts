import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEPSIS3_MIMIC_IV_RULES, SEPSIS3_RULES, assessSepsis3 } from '../../src/clinical/sepsis3.ts';
import type { Sepsis3Assessment, Sepsis3Input, Sepsis3RuleSet } from '../../src/clinical/sepsis3.ts';

const T0 = Date.parse('2026-01-05T12:00:00Z');
/** Instant `h` hours (may be fractional) after T0. */
const at = (h: number): string => new Date(T0 + h * 3_600_000).toISOString();
const MINUTE = 1 / 60;

function run(input: Partial<Sepsis3Input>, rules?: Sepsis3RuleSet): Sepsis3Assessment {
  const r = assessSepsis3({ antibiotics: [], cultures: [], sofa: [], ...input }, rules);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('suspected infection windows (inclusive far edges, as mimic-code)', () => {
  it('antibiotic then culture exactly 24 h later: suspicion at the antibiotic time', () => {
    const r = run({ antibiotics: [{ time: at(0), name: 'ceftriaxone' }], cultures: [{ time: at(24), specimen: 'blood' }] });
    assert.equal(r.suspectedInfection.met, true);
    assert.equal(r.episode?.order, 'antibiotic-then-culture');
    assert.equal(r.episode?.suspicionTime, '2026-01-05T12:00:00Z');
    assert.equal(r.episode?.gapHours, 24);
  });
  it('antibiotic then culture 24 h + 1 min later: no suspicion', () => {
    const r = run({ antibiotics: [{ time: at(0) }], cultures: [{ time: at(24 + MINUTE) }] });
    assert.equal(r.suspectedInfection.met, false);
    assert.equal(r.met, false);
    assert.match(r.explanation.join(' '), /No suspected infection/);
  });
  it('culture then antibiotic exactly 72 h later: suspicion at the culture time', () => {
    const r = run({ antibiotics: [{ time: at(72) }], cultures: [{ time: at(0) }] });
    assert.equal(r.episode?.order, 'culture-then-antibiotic');
    assert.equal(r.episode?.suspicionTime, '2026-01-05T12:00:00Z');
    assert.equal(r.episode?.gapHours, 72);
  });
  it('culture then antibiotic 72 h + 1 min later: no suspicion', () => {
    const r = run({ antibiotics: [{ time: at(72 + MINUTE) }], cultures: [{ time: at(0) }] });
    assert.equal(r.suspectedInfection.met, false);
  });
  it('cultures 25 h before and 25 h after an antibiotic: only the one before matches', () => {
    const r = run({ antibiotics: [{ time: at(25) }], cultures: [{ time: at(0) }, { time: at(50) }] });
    assert.equal(r.episode?.order, 'culture-then-antibiotic');
    assert.equal(r.episode?.suspicionTime, '2026-01-05T12:00:00Z');
  });
  it('prefers the earliest culture before the antibiotic over one after it', () => {
    const r = run({ antibiotics: [{ time: at(10) }], cultures: [{ time: at(12) }, { time: at(-30) }, { time: at(-5) }] });
    assert.equal(r.episode?.order, 'culture-then-antibiotic');
    assert.equal(r.episode?.suspicionTime, '2026-01-04T06:00:00Z'); // T0 - 30 h
  });
  it('same instant: counted by default, not by the mimic-iv rule set (strict comparisons there)', () => {
    const input = { antibiotics: [{ time: at(0) }], cultures: [{ time: at(0) }], sofa: [{ time: at(1), total: 3 }] };
    const def = run(input);
    assert.equal(def.episode?.order, 'simultaneous');
    assert.equal(def.met, true);
    const mimic = run(input, SEPSIS3_MIMIC_IV_RULES);
    assert.equal(mimic.suspectedInfection.met, false);
    assert.equal(mimic.met, false);
    assert.equal(mimic.ruleSet.id, 'sepsis3-mimic-iv');
  });
  it('one episode per antibiotic, ordered by suspicion time', () => {
    const r = run({ antibiotics: [{ time: at(100) }, { time: at(0) }], cultures: [{ time: at(2) }, { time: at(90) }] });
    assert.deepEqual(
      r.suspectedInfection.episodes.map((e) => [e.suspicionTime, e.order]),
      [
        ['2026-01-05T12:00:00Z', 'antibiotic-then-culture'],
        ['2026-01-09T06:00:00Z', 'culture-then-antibiotic'],
      ],
    );
  });
});

describe('SOFA rise window [suspicion - 48 h, suspicion + 24 h], inclusive', () => {
  const suspicion = { antibiotics: [{ time: at(0) }], cultures: [{ time: at(1) }] };
  it('a rise exactly 48 h before suspicion counts; 1 min earlier does not', () => {
    assert.equal(run({ ...suspicion, sofa: [{ time: at(-48), total: 2 }] }).met, true);
    assert.equal(run({ ...suspicion, sofa: [{ time: at(-48 - MINUTE), total: 2 }] }).met, false);
  });
  it('a rise exactly 24 h after suspicion counts; 1 min later does not', () => {
    assert.equal(run({ ...suspicion, sofa: [{ time: at(24), total: 2 }] }).met, true);
    const late = run({ ...suspicion, sofa: [{ time: at(24 + MINUTE), total: 9 }] });
    assert.equal(late.met, false);
    assert.equal(late.sofaWindow?.pointsInWindow, 0);
    assert.equal(late.septicShock.status, 'not-met');
  });
  it('reports the window, the baseline, the first qualifying and the peak SOFA', () => {
    const r = run({
      ...suspicion,
      sofa: [
        { time: at(-10), total: 1 },
        { time: at(-2), total: 2 },
        { time: at(6), total: 7 },
        { time: at(12), total: 4 },
      ],
    });
    assert.equal(r.met, true);
    assert.deepEqual(r.sofaWindow, {
      from: '2026-01-03T12:00:00Z',
      to: '2026-01-06T12:00:00Z',
      pointsInWindow: 4,
      peak: { time: '2026-01-05T18:00:00Z', total: 7 },
      firstQualifying: { time: '2026-01-05T10:00:00Z', total: 2, rise: 2 },
    });
    assert.deepEqual(r.baseline, { value: 0, assumed: true, source: r.baseline.source });
    assert.match(r.baseline.source, /assumed 0/);
    // SOFA rise before suspicion: onset is the suspicion time (both criteria met only then).
    assert.equal(r.onsetTime, '2026-01-05T12:00:00Z');
    assert.match(r.explanation.join('\n'), /rise of 2 >= 2 from baseline 0/);
  });
  it('SOFA rise after suspicion: onset is the SOFA time', () => {
    const r = run({ ...suspicion, sofa: [{ time: at(-3), total: 1 }, { time: at(5), total: 3 }] });
    assert.equal(r.onsetTime, '2026-01-05T17:00:00Z');
  });
  it('a known baseline needs a rise of 2 above it (in-hospital patients)', () => {
    const base = { ...suspicion, baselineSofa: 3, baselineSource: 'admission SOFA' };
    const rise1 = run({ ...base, sofa: [{ time: at(2), total: 4 }] });
    assert.equal(rise1.met, false);
    assert.deepEqual(rise1.baseline, { value: 3, assumed: false, source: 'admission SOFA' });
    assert.equal(rise1.sofaWindow?.peak?.total, 4);
    const rise2 = run({ ...base, sofa: [{ time: at(2), total: 4 }, { time: at(3), total: 5 }] });
    assert.equal(rise2.met, true);
    assert.equal(rise2.sofaWindow?.firstQualifying?.rise, 2);
    assert.equal(rise2.sofaWindow?.firstQualifying?.time, '2026-01-05T15:00:00Z');
  });
  it('the assumed baseline is configurable', () => {
    const rules: Sepsis3RuleSet = { ...SEPSIS3_RULES, version: 'test', baselineSofaWhenUnknown: { value: 1, citation: 'site choice' } };
    assert.equal(run({ ...suspicion, sofa: [{ time: at(2), total: 2 }] }, rules).met, false);
    assert.equal(run({ ...suspicion, sofa: [{ time: at(2), total: 3 }] }, rules).met, true);
  });
  it('uses a later suspicion episode when the first has no SOFA rise', () => {
    const r = run({
      antibiotics: [{ time: at(0) }, { time: at(200) }],
      cultures: [{ time: at(1) }, { time: at(201) }],
      sofa: [{ time: at(210), total: 2 }],
    });
    assert.equal(r.met, true);
    assert.equal(r.episode?.suspicionTime, '2026-01-13T20:00:00Z'); // T0 + 200 h
    assert.equal(r.suspectedInfection.episodes.length, 2);
  });
});

describe('septic shock (Singer 2016)', () => {
  const sepsis = { antibiotics: [{ time: at(0) }], cultures: [{ time: at(1) }], sofa: [{ time: at(2), total: 6 }] };
  it('vasopressor for MAP >= 65 and lactate > 2 despite fluids: met', () => {
    const r = run({ ...sepsis, shock: { vasopressorToMaintainMap65: true, lactateMmolPerL: 2.1, adequateFluidResuscitation: true } });
    assert.equal(r.septicShock.status, 'met');
  });
  it('lactate exactly 2 mmol/L is not > 2: not met', () => {
    const r = run({ ...sepsis, shock: { vasopressorToMaintainMap65: true, lactateMmolPerL: 2, adequateFluidResuscitation: true } });
    assert.equal(r.septicShock.status, 'not-met');
    assert.match(r.septicShock.reason, /lactate 2 mmol\/L is not > 2/);
  });
  it('no vasopressor or no adequate fluids yet: not met, with the reason', () => {
    assert.equal(run({ ...sepsis, shock: { vasopressorToMaintainMap65: false, lactateMmolPerL: 5, adequateFluidResuscitation: true } }).septicShock.status, 'not-met');
    const r = run({ ...sepsis, shock: { vasopressorToMaintainMap65: true, lactateMmolPerL: 5, adequateFluidResuscitation: false } });
    assert.equal(r.septicShock.status, 'not-met');
    assert.match(r.septicShock.reason, /fluid/);
  });
  it('missing facts: unknown, listing them', () => {
    const r = run({ ...sepsis, shock: { vasopressorToMaintainMap65: true } });
    assert.equal(r.septicShock.status, 'unknown');
    assert.deepEqual(r.septicShock.missing, ['serum lactate', 'fluid resuscitation status']);
  });
  it('without sepsis there is no septic shock', () => {
    const r = run({ shock: { vasopressorToMaintainMap65: true, lactateMmolPerL: 5, adequateFluidResuscitation: true } });
    assert.equal(r.septicShock.status, 'not-met');
  });
});

describe('invalid input is an error value', () => {
  it('time without zone, SOFA out of range, bad baseline', () => {
    const a = assessSepsis3({ antibiotics: [{ time: '2026-01-05T12:00:00' }], cultures: [], sofa: [] });
    assert.equal(a.ok, false);
    if (!a.ok) assert.equal(a.error.kind, 'invalid-time');
    const b = assessSepsis3({ antibiotics: [], cultures: [], sofa: [{ time: at(0), total: 25 }] });
    assert.equal(b.ok, false);
    if (!b.ok) assert.equal(b.error.kind, 'invalid-sofa');
    const c = assessSepsis3({ antibiotics: [], cultures: [], sofa: [], baselineSofa: 2.5 });
    assert.equal(c.ok, false);
    if (!c.ok) assert.equal(c.error.kind, 'invalid-baseline');
  });
});
