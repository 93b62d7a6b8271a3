import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  IMMUNOSEP_THERAPY_RULES,
  blindedKitView,
  cockcroftGault,
  doseCount,
  planTherapy,
  regimenFor,
} from '../../src/clinical/therapy.ts';
import type { PlanTherapyInput, TherapyPatientFacts, TherapyPlan, TherapyRuleSet } from '../../src/clinical/therapy.ts';

const START = '2026-01-05T08:00:00Z';
const HEALTHY: TherapyPatientFacts = {
  ageYears: 60,
  weightKg: 70,
  sex: 'male',
  serumCreatinineMgPerDl: 1.0,
  plateletsThousandPerUl: 220,
  absoluteNeutrophilCountPerMm3: 6000,
  haemoglobinGPerDl: 12,
  activeBleeding: false,
};

function plan(input: Partial<PlanTherapyInput> & { className: PlanTherapyInput['className'] }): TherapyPlan {
  const r = planTherapy({ start: START, patient: HEALTHY, ...input });
  if (!r.ok) throw new Error(`expected a plan, got ${JSON.stringify(r.error)}`);
  return r.value;
}

const codes = (p: TherapyPlan): string[] => p.safety.warnings.map((w) => w.code).sort();

describe('regimenFor', () => {
  it('MALS -> anakinra 200 mg IV every 8 h for 15 days', () => {
    const r = regimenFor('MALS');
    assert.ok(r);
    assert.equal(r.drug, 'anakinra');
    assert.equal(r.doseAmount, 200);
    assert.equal(r.doseUnit, 'mg');
    assert.equal(r.route, 'IV');
    assert.equal(r.intervalHours, 8);
    assert.equal(r.durationDays, 15);
    assert.equal(r.description, 'anakinra 200 mg IV every 8 h for 15 days');
    assert.match(r.citation, /JAMA 2026/);
  });
  it('immunoparalysis -> interferon-gamma-1b 100 ug SC every 48 h for 15 days', () => {
    const r = regimenFor('immunoparalysis');
    assert.ok(r);
    assert.equal(r.drug, 'interferon-gamma-1b');
    assert.equal(r.doseAmount, 100);
    assert.equal(r.doseUnit, 'ug');
    assert.equal(r.route, 'SC');
    assert.equal(r.intervalHours, 48);
    assert.equal(r.durationDays, 15);
    assert.equal(r.description, 'interferon-gamma-1b 100 ug SC every 48 h for 15 days');
  });
  it('unclassified and indeterminate have no targeted therapy', () => {
    assert.equal(regimenFor('unclassified'), null);
    assert.equal(regimenFor('indeterminate'), null);
  });
  it('rule-set data cannot be mutated by a caller', () => {
    const r = regimenFor('MALS');
    assert.ok(r);
    assert.throws(() => {
      (r as { doseAmount: number }).doseAmount = 400;
    });
    assert.equal(regimenFor('MALS')?.doseAmount, 200);
  });
});

describe('dose count rule: doses inside [start, start + duration)', () => {
  it('anakinra q8h x 15 days = 45; interferon-gamma q48h x 15 days = 8', () => {
    assert.equal(doseCount({ intervalHours: 8, durationDays: 15 }), 45);
    assert.equal(doseCount({ intervalHours: 48, durationDays: 15 }), 8);
  });
  it('an interval dividing the duration exactly does not add a dose at the end', () => {
    assert.equal(doseCount({ intervalHours: 24, durationDays: 10 }), 10);
    assert.equal(doseCount({ intervalHours: 72, durationDays: 15 }), 5);
  });
});

describe('planTherapy: calendar invariants (property)', () => {
  it('every dose inside [start, end), evenly spaced, and the next one would fall at or after the end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        (intervalHours, durationDays, startMs) => {
          const base = IMMUNOSEP_THERAPY_RULES.regimens.MALS;
          const rules: TherapyRuleSet = {
            ...IMMUNOSEP_THERAPY_RULES,
            regimens: { ...IMMUNOSEP_THERAPY_RULES.regimens, MALS: { ...base, intervalHours, durationDays } },
          };
          const start = new Date(Math.floor(startMs / 60_000) * 60_000).toISOString();
          const r = planTherapy({ className: 'MALS', start, patient: HEALTHY, ruleSet: rules });
          assert.ok(r.ok);
          const p = r.value;
          const s = Date.parse(p.start);
          const e = Date.parse(p.end);
          assert.equal(e - s, durationDays * 86_400_000);
          assert.equal(p.administrations.length, Math.ceil((durationDays * 24) / intervalHours));
          p.administrations.forEach((a, i) => {
            const t = Date.parse(a.time);
            assert.equal(t, s + i * intervalHours * 3_600_000);
            assert.ok(t >= s && t < e);
            assert.ok(a.studyDay >= 1 && a.studyDay <= durationDays);
          });
          const last = p.administrations[p.administrations.length - 1];
          assert.ok(last && Date.parse(last.time) + intervalHours * 3_600_000 >= e);
        },
      ),
    );
  });
});

describe('planTherapy: administration calendar', () => {
  it('anakinra: 45 doses q8h, first at start, last at +352 h on study day 15', () => {
    const p = plan({ className: 'MALS' });
    assert.equal(p.doseCount, 45);
    assert.equal(p.administrations.length, 45);
    assert.equal(p.administrations[0]?.time, '2026-01-05T08:00:00Z');
    assert.equal(p.administrations[0]?.number, 1);
    assert.equal(p.administrations[0]?.studyDay, 1);
    assert.equal(p.administrations[1]?.time, '2026-01-05T16:00:00Z');
    assert.equal(p.administrations[2]?.time, '2026-01-06T00:00:00Z');
    assert.equal(p.administrations[3]?.studyDay, 2); // +24 h
    assert.equal(p.administrations[44]?.number, 45);
    assert.equal(p.administrations[44]?.hoursFromStart, 352);
    assert.equal(p.administrations[44]?.time, '2026-01-20T00:00:00Z');
    assert.equal(p.administrations[44]?.studyDay, 15);
    assert.equal(p.end, '2026-01-20T08:00:00Z');
    // Three doses on every study day 1..15.
    for (let day = 1; day <= 15; day++) {
      assert.equal(p.administrations.filter((a) => a.studyDay === day).length, 3, `day ${day}`);
    }
  });

  it('interferon-gamma: 8 doses q48h on study days 1, 3, ..., 15', () => {
    const p = plan({ className: 'immunoparalysis' });
    assert.equal(p.doseCount, 8);
    assert.deepEqual(
      p.administrations.map((a) => a.studyDay),
      [1, 3, 5, 7, 9, 11, 13, 15],
    );
    assert.equal(p.administrations[0]?.time, '2026-01-05T08:00:00Z');
    assert.equal(p.administrations[1]?.time, '2026-01-07T08:00:00Z');
    assert.equal(p.administrations[7]?.time, '2026-01-19T08:00:00Z');
    assert.equal(p.administrations[7]?.hoursFromStart, 336);
  });

  it('counts elapsed hours across a daylight-saving change (start given with an offset, output UTC)', () => {
    // Europe switches to summer time on 2026-03-29; 24 h after 10:00 CET on the 28th is 09:00Z on the 29th.
    const p = plan({ className: 'MALS', start: '2026-03-28T10:00:00+01:00' });
    assert.equal(p.start, '2026-03-28T09:00:00Z');
    assert.equal(p.administrations[3]?.time, '2026-03-29T09:00:00Z');
    assert.equal(p.administrations[44]?.time, '2026-04-12T01:00:00Z');
  });

  it('crosses a month and a leap day', () => {
    const p = plan({ className: 'immunoparalysis', start: '2028-02-20T22:30:00Z' });
    assert.equal(p.administrations[4]?.time, '2028-02-28T22:30:00Z');
    assert.equal(p.administrations[5]?.time, '2028-03-01T22:30:00Z');
    assert.equal(p.administrations[7]?.time, '2028-03-05T22:30:00Z');
  });

  it('refuses a start without a time zone or an impossible date, as a value', () => {
    for (const start of ['2026-01-05T08:00:00', '2026-02-30T08:00:00Z', 'tomorrow']) {
      const r = planTherapy({ className: 'MALS', start, patient: HEALTHY });
      assert.equal(r.ok, false, start);
      if (!r.ok) assert.equal(r.error.kind, 'invalid-start');
    }
  });

  it('refuses unclassified / indeterminate with a reason', () => {
    for (const className of ['unclassified', 'indeterminate'] as const) {
      const r = planTherapy({ className, start: START, patient: HEALTHY });
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.error.kind, 'no-targeted-therapy');
        assert.match(r.error.message, new RegExp(className));
      }
    }
  });

  it('refuses a negative or non-numeric patient fact', () => {
    const r = planTherapy({ className: 'MALS', start: START, patient: { ...HEALTHY, weightKg: -70 } });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual([r.error.kind, r.error.kind === 'invalid-patient-fact' && r.error.field], ['invalid-patient-fact', 'weightKg']);
  });
});

describe('planTherapy: double dummy', () => {
  it('anakinra: IV 20 mL active, SC 0.5 mL saline, every administration', () => {
    const p = plan({ className: 'MALS' });
    assert.equal(p.activeComponent, 'IV');
    for (const a of p.administrations) {
      assert.deepEqual(a.iv, { route: 'IV', volumeMl: 20, contents: 'anakinra 200 mg', active: true });
      assert.deepEqual(a.sc, { route: 'SC', volumeMl: 0.5, contents: 'normal saline (0.9% NaCl)', active: false });
    }
  });
  it('interferon-gamma: SC 0.5 mL active, IV 20 mL saline', () => {
    const p = plan({ className: 'immunoparalysis' });
    assert.equal(p.activeComponent, 'SC');
    assert.deepEqual(p.administrations[0]?.sc, { route: 'SC', volumeMl: 0.5, contents: 'interferon-gamma-1b 100 ug', active: true });
    assert.equal(p.administrations[0]?.iv.active, false);
  });
  it('placebo arm: both components saline', () => {
    const p = plan({ className: 'MALS', allocation: 'placebo' });
    assert.equal(p.activeComponent, 'none');
    assert.ok(p.administrations.every((a) => !a.iv.active && !a.sc.active && a.iv.contents === a.sc.contents));
  });
  it('the blinded kit view is identical for the active and the placebo arm and names no contents', () => {
    for (const className of ['MALS', 'immunoparalysis'] as const) {
      const patient = { ...HEALTHY, serumCreatinineMgPerDl: 4, plateletsThousandPerUl: 40 };
      const active = blindedKitView(plan({ className, patient, allocation: 'active' }));
      const placebo = blindedKitView(plan({ className, patient, allocation: 'placebo' }));
      assert.deepEqual(active, placebo);
      const kitJson = JSON.stringify(active.administrations);
      assert.doesNotMatch(kitJson, /saline|anakinra|interferon|active|mg"|ug"/i);
      assert.equal(active.administrations.length, className === 'MALS' ? 45 : 8);
      assert.doesNotMatch(JSON.stringify(active), /"allocation"|"active"|placebo|saline/i);
    }
  });
});

describe('planTherapy: monitoring visits', () => {
  it('days 0,2,3,4,5,7,8,15,28,90 on the study-day convention', () => {
    const p = plan({ className: 'MALS' });
    assert.deepEqual(
      p.visits.map((v) => v.day),
      [0, 2, 3, 4, 5, 7, 8, 15, 28, 90],
    );
    const byDay = new Map(p.visits.map((v) => [v.day, v]));
    assert.deepEqual([byDay.get(0)?.windowStart, byDay.get(0)?.windowEnd], ['2026-01-04T08:00:00Z', '2026-01-05T08:00:00Z']);
    assert.deepEqual([byDay.get(2)?.windowStart, byDay.get(2)?.windowEnd], ['2026-01-06T08:00:00Z', '2026-01-07T08:00:00Z']);
    assert.deepEqual([byDay.get(15)?.windowStart, byDay.get(15)?.windowEnd], ['2026-01-19T08:00:00Z', '2026-01-20T08:00:00Z']);
    // Jan 5 + 89 days = Apr 4 (26 + 28 + 31 + 4).
    assert.deepEqual([byDay.get(90)?.windowStart, byDay.get(90)?.windowEnd], ['2026-04-04T08:00:00Z', '2026-04-05T08:00:00Z']);
    for (const v of p.visits) {
      assert.ok(v.assessments.some((a) => /SOFA/.test(a)), `day ${v.day} SOFA`);
      assert.ok(v.assessments.some((a) => /ferritin/.test(a)), `day ${v.day} biomarkers`);
    }
    assert.ok(byDay.get(15)?.assessments.some((a) => /reversal/.test(a)));
    assert.ok(byDay.get(28)?.assessments.some((a) => /28-day mortality/.test(a)));
    assert.match(p.visitsNote ?? '', /unconfirmed/);
  });
  it('the last anakinra dose falls in the day-15 visit window', () => {
    const p = plan({ className: 'MALS' });
    const d15 = p.visits.find((v) => v.day === 15);
    const last = p.administrations[44];
    assert.ok(d15 && last);
    assert.ok(Date.parse(last.time) >= Date.parse(d15.windowStart) && Date.parse(last.time) < Date.parse(d15.windowEnd));
  });
});

describe('Cockcroft-Gault', () => {
  const crcl = (ageYears: number, weightKg: number, sex: 'female' | 'male', serumCreatinineMgPerDl: number): number => {
    const r = cockcroftGault({ ageYears, weightKg, sex, serumCreatinineMgPerDl });
    assert.equal(r.status, 'computed');
    return r.status === 'computed' ? r.creatinineClearanceMlPerMin : NaN;
  };
  it('matches hand calculations', () => {
    // (140 - 60) x 70 / (72 x 1.0) = 5600 / 72 = 77.78
    assert.ok(Math.abs(crcl(60, 70, 'male', 1.0) - 77.7778) < 1e-4);
    // x 0.85 = 66.11
    assert.ok(Math.abs(crcl(60, 70, 'female', 1.0) - 66.1111) < 1e-4);
    // (140 - 80) x 50 / (72 x 2.0) = 3000 / 144 = 20.833 x 0.85 = 17.708
    assert.ok(Math.abs(crcl(80, 50, 'female', 2.0) - 17.7083) < 1e-4);
    // (140 - 68) x 60 / (72 x 2.0) = 4320 / 144 = 30 exactly
    assert.equal(crcl(68, 60, 'male', 2.0), 30);
  });
  it('lists every missing input', () => {
    const r = cockcroftGault({ ageYears: 50, sex: null });
    assert.equal(r.status, 'missing');
    if (r.status === 'missing') assert.deepEqual(r.missing, ['weight', 'sex', 'serum creatinine']);
  });
  it('is not applicable outside the formula range', () => {
    assert.equal(cockcroftGault({ ageYears: 150, weightKg: 70, sex: 'male', serumCreatinineMgPerDl: 1 }).status, 'not-applicable');
    assert.equal(cockcroftGault({ ageYears: 50, weightKg: 70, sex: 'male', serumCreatinineMgPerDl: 0 }).status, 'not-applicable');
  });
});

describe('planTherapy: safety warnings', () => {
  it('anakinra with CrCl < 30 mL/min: warning with consider-every-other-day text; the dose is unchanged', () => {
    const p = plan({ className: 'MALS', patient: { ...HEALTHY, ageYears: 80, weightKg: 50, sex: 'female', serumCreatinineMgPerDl: 2.0 } });
    const w = p.safety.warnings.find((x) => x.code === 'ANAKINRA_RENAL_CRCL_LOW');
    assert.ok(w);
    assert.equal(w.severity, 'warning');
    assert.match(w.message, /17\.7 mL\/min/);
    assert.match(w.message, /consider every-other-day dosing per the anakinra label/);
    assert.match(w.message, /ImmunoSep adjustment unconfirmed/);
    assert.equal(w.doseChanged, false);
    assert.ok(w.unconfirmed);
    assert.match(w.citation, /Cockcroft/);
    const crclEvidence = w.evidence.find((e) => e.name.startsWith('creatinine clearance'));
    assert.ok(crclEvidence && Math.abs((crclEvidence.value as number) - 17.7083) < 1e-4);
    // The calendar is exactly the standard one: 45 doses of 200 mg every 8 h.
    assert.equal(p.administrations.length, 45);
    assert.ok(p.administrations.every((a) => a.iv.contents === 'anakinra 200 mg'));
    assert.equal(p.administrations[1]?.hoursFromStart, 8);
    assert.equal(p.doseAdjusted, false);
  });
  it('CrCl exactly 30 mL/min does not fire (< 30); 29.6 does', () => {
    const at30 = plan({ className: 'MALS', patient: { ...HEALTHY, ageYears: 68, weightKg: 60, sex: 'male', serumCreatinineMgPerDl: 2.0 } });
    assert.ok(!codes(at30).includes('ANAKINRA_RENAL_CRCL_LOW'));
    assert.equal(at30.safety.checks.find((c) => c.check === 'renal-function')?.status, 'clear');
    const below = plan({ className: 'MALS', patient: { ...HEALTHY, ageYears: 69, weightKg: 60, sex: 'male', serumCreatinineMgPerDl: 2.0 } });
    assert.ok(codes(below).includes('ANAKINRA_RENAL_CRCL_LOW'));
  });
  it('renal function is not checked for interferon-gamma', () => {
    const p = plan({ className: 'immunoparalysis', patient: { ...HEALTHY, serumCreatinineMgPerDl: 6 } });
    assert.ok(!p.safety.checks.some((c) => c.check === 'renal-function'));
  });
  it('missing inputs produce explicit "could not check" warnings', () => {
    const p = plan({ className: 'MALS', patient: {} });
    const renal = p.safety.warnings.find((w) => w.code === 'RENAL_FUNCTION_NOT_CHECKED');
    assert.ok(renal);
    assert.equal(renal.severity, 'not-checked');
    assert.equal(renal.message, 'could not check creatinine clearance (Cockcroft-Gault): missing age, weight, sex, serum creatinine');
    assert.ok(codes(p).includes('NEUTROPHILS_NOT_CHECKED'));
    assert.ok(codes(p).includes('HAEMOGLOBIN_NOT_CHECKED'));
    assert.ok(p.safety.checks.every((c) => c.status === 'not-checked'));
    const q = plan({ className: 'immunoparalysis', patient: {} });
    assert.deepEqual(codes(q), ['BLEEDING_NOT_CHECKED', 'IFNG_HAEMORRHAGE_SIGNAL', 'NEUTROPHILS_NOT_CHECKED', 'PLATELETS_NOT_CHECKED']);
    assert.match(q.safety.warnings.find((w) => w.code === 'PLATELETS_NOT_CHECKED')?.message ?? '', /could not check platelet count: missing/);
  });
  it('healthy inputs: only the drug-signal advisories', () => {
    assert.deepEqual(codes(plan({ className: 'MALS' })), ['ANAKINRA_ANAEMIA_SIGNAL']);
    assert.deepEqual(codes(plan({ className: 'immunoparalysis' })), ['IFNG_HAEMORRHAGE_SIGNAL']);
  });
  it('interferon-gamma: low platelets (< 100, unconfirmed cut-off) and bleeding', () => {
    const low = plan({ className: 'immunoparalysis', patient: { ...HEALTHY, plateletsThousandPerUl: 99.9, activeBleeding: true } });
    assert.ok(codes(low).includes('IFNG_HAEMORRHAGE_LOW_PLATELETS'));
    assert.ok(codes(low).includes('IFNG_HAEMORRHAGE_ACTIVE_BLEEDING'));
    assert.equal(low.safety.checks.find((c) => c.check === 'haemorrhage')?.status, 'flagged');
    assert.ok(low.safety.warnings.find((w) => w.code === 'IFNG_HAEMORRHAGE_LOW_PLATELETS')?.unconfirmed);
    const at100 = plan({ className: 'immunoparalysis', patient: { ...HEALTHY, plateletsThousandPerUl: 100 } });
    assert.ok(!codes(at100).includes('IFNG_HAEMORRHAGE_LOW_PLATELETS'));
  });
  it('neutropenia < 1500/mm3 for both drugs; configurable to the unconfirmed 1000', () => {
    assert.ok(codes(plan({ className: 'MALS', patient: { ...HEALTHY, absoluteNeutrophilCountPerMm3: 1499 } })).includes('NEUTROPENIA'));
    assert.ok(codes(plan({ className: 'immunoparalysis', patient: { ...HEALTHY, absoluteNeutrophilCountPerMm3: 1499 } })).includes('NEUTROPENIA'));
    assert.ok(!codes(plan({ className: 'MALS', patient: { ...HEALTHY, absoluteNeutrophilCountPerMm3: 1500 } })).includes('NEUTROPENIA'));
    const rules1000: TherapyRuleSet = {
      ...IMMUNOSEP_THERAPY_RULES,
      version: '1.0.0-site',
      safety: { ...IMMUNOSEP_THERAPY_RULES.safety, neutropenia: { ...IMMUNOSEP_THERAPY_RULES.safety.neutropenia, value: 1000 } },
    };
    const p = plan({ className: 'MALS', patient: { ...HEALTHY, absoluteNeutrophilCountPerMm3: 1200 }, ruleSet: rules1000 });
    assert.ok(!codes(p).includes('NEUTROPENIA'));
    assert.equal(p.ruleSet.version, '1.0.0-site');
  });
  it('anakinra: anaemia advisory always, escalated below 10 g/dL', () => {
    const p = plan({ className: 'MALS', patient: { ...HEALTHY, haemoglobinGPerDl: 9.9 } });
    assert.ok(codes(p).includes('ANAKINRA_LOW_HAEMOGLOBIN'));
    assert.ok(codes(p).includes('ANAKINRA_ANAEMIA_SIGNAL'));
  });
  it('the plan explains itself and names its rule set', () => {
    const p = plan({ className: 'MALS' });
    assert.deepEqual([p.ruleSet.id, p.ruleSet.version], ['immunosep-therapy', '1.0.0']);
    assert.match(p.explanation.join('\n'), /45 doses = ceil\(15 days x 24 h \/ 8 h\)/);
    assert.match(p.doseCountRule, /ceil/);
  });
});
