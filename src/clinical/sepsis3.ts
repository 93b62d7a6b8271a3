/**
 * Sepsis-3 (Singer et al., JAMA 2016;315(8):801-810): suspected infection plus an acute rise of
 * the total SOFA score of >= 2 points; septic shock when a vasopressor is needed to hold
 * MAP >= 65 mmHg and serum lactate is > 2 mmol/L despite adequate fluid resuscitation.
 *
 * Suspected infection follows Seymour et al. (JAMA 2016;315(8):762-774) as implemented by
 * MIT-LCP/mimic-code (mimic-iv/concepts/sepsis/suspicion_of_infection.sql and sepsis3.sql):
 * - antibiotic first, then a culture within 24 h: suspicion time = the antibiotic time;
 * - culture first, then an antibiotic within 72 h: suspicion time = the culture time;
 *   (both the earlier event of the pair). For each antibiotic the earliest matching culture is
 *   used, a culture before the antibiotic preferred (as mimic-code does).
 * - Window edges: "within 24 h / 72 h" includes exactly 24 h / 72 h (mimic-code compares with
 *   <= at the far edge). Events at the same instant: mimic-code's strict comparisons match
 *   neither order, so a culture drawn with the first antibiotic dose at the same charted minute
 *   never counts; clinically that is the textbook suspicion of infection, so the default rule set
 *   counts it and the `sepsis3-mimic-iv` rule set reproduces mimic-code exactly.
 * - Organ dysfunction: a SOFA value whose 24 h window ends within [suspicion - 48 h,
 *   suspicion + 24 h] (both inclusive, as mimic-code) with total - baseline >= 2. The baseline is
 *   the known pre-infection (e.g. admission) SOFA, else assumed 0 (Singer 2016; mimic-code) -
 *   configurable in the rule set, and always reported as assumed.
 * The input SOFA series is plain data [{time, total}] where `time` is the END of the 24 h window
 * the total describes (the SOFA module produces it).
 */
import { HOUR_MS, formatInstant, parseInstant } from './instant.ts';
import { err, ok } from './types.ts';
import type { IsoDateTime, Result } from './types.ts';

export interface Sepsis3RuleSet {
  id: string;
  version: string;
  citation: string;
  suspicion: {
    /** Antibiotic first: a culture at most this many hours later (inclusive). */
    antibioticThenCultureHours: number;
    /** Culture first: an antibiotic at most this many hours later (inclusive). */
    cultureThenAntibioticHours: number;
    /** Whether a culture and an antibiotic at the same instant form a suspicion of infection. */
    simultaneousCounts: boolean;
    citation: string;
  };
  sofaWindow: { hoursBeforeSuspicion: number; hoursAfterSuspicion: number; citation: string };
  sofaRise: { points: number; citation: string };
  baselineSofaWhenUnknown: { value: number; citation: string };
  septicShock: { mapTargetMmHg: number; lactateAboveMmolPerL: number; citation: string };
}

const SINGER_2016 = 'Singer M et al. The Third International Consensus Definitions for Sepsis and Septic Shock (Sepsis-3). JAMA 2016;315(8):801-810';
const SEYMOUR_2016 = 'Seymour CW et al. Assessment of Clinical Criteria for Sepsis. JAMA 2016;315(8):762-774';
const MIMIC_CODE = 'MIT-LCP/mimic-code, mimic-iv/concepts/sepsis/suspicion_of_infection.sql and sepsis3.sql';

export const SEPSIS3_RULES: Sepsis3RuleSet = Object.freeze({
  id: 'sepsis3',
  version: '1.0.0',
  citation: `${SINGER_2016}; ${SEYMOUR_2016}; ${MIMIC_CODE}`,
  suspicion: Object.freeze({
    antibioticThenCultureHours: 24,
    cultureThenAntibioticHours: 72,
    simultaneousCounts: true,
    citation: `${SEYMOUR_2016}; windows and inclusive far edges as in ${MIMIC_CODE}; same-instant pairs counted (mimic-code does not)`,
  }),
  sofaWindow: Object.freeze({ hoursBeforeSuspicion: 48, hoursAfterSuspicion: 24, citation: `${SEYMOUR_2016}; ${MIMIC_CODE}` }),
  sofaRise: Object.freeze({ points: 2, citation: SINGER_2016 }),
  baselineSofaWhenUnknown: Object.freeze({ value: 0, citation: `${SINGER_2016} (baseline assumed zero in patients without known pre-existing organ dysfunction); ${MIMIC_CODE}` }),
  septicShock: Object.freeze({ mapTargetMmHg: 65, lactateAboveMmolPerL: 2, citation: SINGER_2016 }),
});

/** mimic-code exactly: same-instant antibiotic and culture do not form a suspicion. */
export const SEPSIS3_MIMIC_IV_RULES: Sepsis3RuleSet = Object.freeze({
  ...SEPSIS3_RULES,
  id: 'sepsis3-mimic-iv',
  suspicion: Object.freeze({ ...SEPSIS3_RULES.suspicion, simultaneousCounts: false, citation: `${SEYMOUR_2016}; exactly as ${MIMIC_CODE}` }),
});

export interface AntibioticEvent {
  time: IsoDateTime;
  name?: string;
  id?: string;
}

export interface CultureEvent {
  time: IsoDateTime;
  specimen?: string;
  id?: string;
}

/** Total SOFA of the 24 h window ending at `time`. */
export interface SofaPoint {
  time: IsoDateTime;
  total: number;
}

export interface SepticShockFacts {
  /** A vasopressor is required to maintain MAP >= 65 mmHg. */
  vasopressorToMaintainMap65?: boolean | null;
  lactateMmolPerL?: number | null;
  /** Adequate fluid resuscitation has been given. */
  adequateFluidResuscitation?: boolean | null;
}

export interface Sepsis3Input {
  antibiotics: AntibioticEvent[];
  cultures: CultureEvent[];
  sofa: SofaPoint[];
  /** Known baseline SOFA (e.g. the admission SOFA of a patient already in hospital). */
  baselineSofa?: number | null;
  baselineSource?: string;
  shock?: SepticShockFacts;
}

export interface SuspicionEpisode {
  suspicionTime: IsoDateTime;
  order: 'antibiotic-then-culture' | 'culture-then-antibiotic' | 'simultaneous';
  antibiotic: AntibioticEvent;
  culture: CultureEvent;
  /** Hours from the first to the second event of the pair (0 when simultaneous). */
  gapHours: number;
}

export interface SofaWindowEvaluation {
  from: IsoDateTime;
  to: IsoDateTime;
  pointsInWindow: number;
  peak: SofaPoint | null;
  /** First SOFA point in the window with total - baseline >= rise. */
  firstQualifying: (SofaPoint & { rise: number }) | null;
}

export interface SepticShockAssessment {
  status: 'met' | 'not-met' | 'unknown';
  reason: string;
  missing: string[];
  citation: string;
}

export interface Sepsis3Assessment {
  ruleSet: { id: string; version: string };
  met: boolean;
  /** When both criteria were first documented: the later of the suspicion time and the qualifying SOFA time. */
  onsetTime: IsoDateTime | null;
  suspectedInfection: { met: boolean; episodes: SuspicionEpisode[] };
  /** The suspicion episode used (the first one with a qualifying SOFA, else the first one). */
  episode: SuspicionEpisode | null;
  baseline: { value: number; assumed: boolean; source: string };
  sofaWindow: SofaWindowEvaluation | null;
  septicShock: SepticShockAssessment;
  explanation: string[];
}

export interface Sepsis3InputError {
  kind: 'invalid-time' | 'invalid-sofa' | 'invalid-baseline' | 'invalid-lactate';
  message: string;
  value: unknown;
}

interface Timed<T> {
  ms: number;
  event: T;
}

function timed<T extends { time: IsoDateTime }>(events: T[], what: string): Result<Timed<T>[], Sepsis3InputError> {
  const out: Timed<T>[] = [];
  for (const event of events) {
    const ms = parseInstant(event.time);
    if (ms === null) return err({ kind: 'invalid-time', message: `${what} time '${event.time}' is not an ISO 8601 instant with a time zone`, value: event.time });
    out.push({ ms, event });
  }
  return ok(out.sort((a, b) => a.ms - b.ms));
}

const validSofa = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 24;

/** Suspicion-of-infection episodes, one per antibiotic with a matching culture, ordered by suspicion time. */
function suspicionEpisodes(abx: Timed<AntibioticEvent>[], cultures: Timed<CultureEvent>[], rules: Sepsis3RuleSet): (SuspicionEpisode & { ms: number; abxMs: number; cultureMs: number })[] {
  const before = rules.suspicion.cultureThenAntibioticHours * HOUR_MS;
  const after = rules.suspicion.antibioticThenCultureHours * HOUR_MS;
  const out: (SuspicionEpisode & { ms: number; abxMs: number; cultureMs: number })[] = [];
  for (const a of abx) {
    // Culture first (or at the same instant when allowed): the earliest culture in [a - 72 h, a).
    const prior = cultures.find((c) => {
      const gap = a.ms - c.ms;
      return (gap > 0 || (gap === 0 && rules.suspicion.simultaneousCounts)) && gap <= before;
    });
    if (prior) {
      const gap = a.ms - prior.ms;
      out.push({
        suspicionTime: formatInstant(prior.ms),
        order: gap === 0 ? 'simultaneous' : 'culture-then-antibiotic',
        antibiotic: a.event,
        culture: prior.event,
        gapHours: gap / HOUR_MS,
        ms: prior.ms,
        abxMs: a.ms,
        cultureMs: prior.ms,
      });
      continue;
    }
    // Antibiotic first: the earliest culture in (a, a + 24 h].
    const next = cultures.find((c) => c.ms > a.ms && c.ms - a.ms <= after);
    if (next) {
      out.push({
        suspicionTime: formatInstant(a.ms),
        order: 'antibiotic-then-culture',
        antibiotic: a.event,
        culture: next.event,
        gapHours: (next.ms - a.ms) / HOUR_MS,
        ms: a.ms,
        abxMs: a.ms,
        cultureMs: next.ms,
      });
    }
  }
  return out.sort((x, y) => x.ms - y.ms || x.abxMs - y.abxMs || x.cultureMs - y.cultureMs);
}

function evaluateWindow(suspicionMs: number, sofa: Timed<SofaPoint>[], baseline: number, rules: Sepsis3RuleSet): SofaWindowEvaluation {
  const fromMs = suspicionMs - rules.sofaWindow.hoursBeforeSuspicion * HOUR_MS;
  const toMs = suspicionMs + rules.sofaWindow.hoursAfterSuspicion * HOUR_MS;
  const inWindow = sofa.filter((p) => p.ms >= fromMs && p.ms <= toMs);
  let peak: Timed<SofaPoint> | null = null;
  for (const p of inWindow) if (peak === null || p.event.total > peak.event.total) peak = p;
  const q = inWindow.find((p) => p.event.total - baseline >= rules.sofaRise.points);
  return {
    from: formatInstant(fromMs),
    to: formatInstant(toMs),
    pointsInWindow: inWindow.length,
    peak: peak === null ? null : { time: formatInstant(peak.ms), total: peak.event.total },
    firstQualifying: q === undefined ? null : { time: formatInstant(q.ms), total: q.event.total, rise: q.event.total - baseline },
  };
}

function assessShock(sepsisMet: boolean, facts: SepticShockFacts | undefined, rules: Sepsis3RuleSet): SepticShockAssessment {
  const s = rules.septicShock;
  const citation = s.citation;
  if (!sepsisMet) return { status: 'not-met', reason: 'septic shock is a subset of sepsis and the Sepsis-3 criteria are not met', missing: [], citation };
  const vaso = facts?.vasopressorToMaintainMap65;
  const lactate = facts?.lactateMmolPerL;
  const fluids = facts?.adequateFluidResuscitation;
  const notMet: string[] = [];
  const missing: string[] = [];
  if (vaso === false) notMet.push(`no vasopressor required to maintain MAP >= ${s.mapTargetMmHg} mmHg`);
  if (vaso === undefined || vaso === null) missing.push('vasopressor requirement');
  if (lactate !== undefined && lactate !== null && !(lactate > s.lactateAboveMmolPerL)) notMet.push(`lactate ${lactate} mmol/L is not > ${s.lactateAboveMmolPerL} mmol/L`);
  if (lactate === undefined || lactate === null) missing.push('serum lactate');
  if (fluids === false) notMet.push('adequate fluid resuscitation not yet given (the criteria apply despite adequate volume resuscitation)');
  if (fluids === undefined || fluids === null) missing.push('fluid resuscitation status');
  if (notMet.length > 0) return { status: 'not-met', reason: notMet.join('; '), missing, citation };
  if (missing.length > 0) return { status: 'unknown', reason: `cannot assess septic shock: missing ${missing.join(', ')}`, missing, citation };
  return {
    status: 'met',
    reason: `vasopressor required to maintain MAP >= ${s.mapTargetMmHg} mmHg and lactate ${lactate} mmol/L > ${s.lactateAboveMmolPerL} mmol/L despite adequate fluid resuscitation`,
    missing,
    citation,
  };
}

function strip<T extends SuspicionEpisode>(e: T): SuspicionEpisode {
  return { suspicionTime: e.suspicionTime, order: e.order, antibiotic: e.antibiotic, culture: e.culture, gapHours: e.gapHours };
}

export function assessSepsis3(input: Sepsis3Input, rules: Sepsis3RuleSet = SEPSIS3_RULES): Result<Sepsis3Assessment, Sepsis3InputError> {
  const abx = timed(input.antibiotics, 'antibiotic');
  if (!abx.ok) return abx;
  const cultures = timed(input.cultures, 'culture');
  if (!cultures.ok) return cultures;
  const sofa = timed(input.sofa, 'SOFA');
  if (!sofa.ok) return sofa;
  for (const p of sofa.value) {
    if (!validSofa(p.event.total)) return err({ kind: 'invalid-sofa', message: `SOFA total must be an integer 0-24 (got ${p.event.total} at ${p.event.time})`, value: p.event.total });
  }
  const known = input.baselineSofa !== undefined && input.baselineSofa !== null;
  if (known && !validSofa(input.baselineSofa as number)) {
    return err({ kind: 'invalid-baseline', message: `baseline SOFA must be an integer 0-24 (got ${input.baselineSofa})`, value: input.baselineSofa });
  }
  const lactate = input.shock?.lactateMmolPerL;
  if (lactate !== undefined && lactate !== null && !(Number.isFinite(lactate) && lactate >= 0)) {
    return err({ kind: 'invalid-lactate', message: `lactate must be a finite number >= 0 mmol/L (got ${lactate})`, value: lactate });
  }
  const baseline = known
    ? { value: input.baselineSofa as number, assumed: false, source: input.baselineSource ?? 'provided baseline SOFA' }
    : { value: rules.baselineSofaWhenUnknown.value, assumed: true, source: `assumed ${rules.baselineSofaWhenUnknown.value}: no known baseline (${rules.baselineSofaWhenUnknown.citation})` };

  const episodes = suspicionEpisodes(abx.value, cultures.value, rules);
  const explanation: string[] = [];
  const ruleSet = { id: rules.id, version: rules.version };
  const w = rules.suspicion;
  if (episodes.length === 0) {
    explanation.push(
      `No suspected infection: no antibiotic followed by a culture within ${w.antibioticThenCultureHours} h, nor a culture followed by an antibiotic within ${w.cultureThenAntibioticHours} h (${input.antibiotics.length} antibiotic(s), ${input.cultures.length} culture(s)).`,
    );
    return ok({
      ruleSet,
      met: false,
      onsetTime: null,
      suspectedInfection: { met: false, episodes: [] },
      episode: null,
      baseline,
      sofaWindow: null,
      septicShock: assessShock(false, input.shock, rules),
      explanation,
    });
  }

  let chosen = episodes[0]!;
  let window = evaluateWindow(chosen.ms, sofa.value, baseline.value, rules);
  for (const e of episodes) {
    const ev = evaluateWindow(e.ms, sofa.value, baseline.value, rules);
    if (ev.firstQualifying) {
      chosen = e;
      window = ev;
      break;
    }
  }
  const met = window.firstQualifying !== null;
  const qualifyingMs = window.firstQualifying ? (parseInstant(window.firstQualifying.time) as number) : null;
  const onsetMs = qualifyingMs === null ? null : Math.max(chosen.ms, qualifyingMs);

  explanation.push(
    `Suspected infection at ${chosen.suspicionTime} (${chosen.order}: antibiotic ${formatInstant(chosen.abxMs)}${chosen.antibiotic.name ? ` ${chosen.antibiotic.name}` : ''}, culture ${formatInstant(chosen.cultureMs)}${chosen.culture.specimen ? ` ${chosen.culture.specimen}` : ''}, ${chosen.gapHours} h apart; limits ${w.antibioticThenCultureHours} h antibiotic->culture, ${w.cultureThenAntibioticHours} h culture->antibiotic, inclusive).`,
    `Baseline SOFA ${baseline.value} (${baseline.assumed ? 'assumed' : baseline.source}).`,
    `SOFA window [${window.from}, ${window.to}] (suspicion - ${rules.sofaWindow.hoursBeforeSuspicion} h .. + ${rules.sofaWindow.hoursAfterSuspicion} h, inclusive): ${window.pointsInWindow} value(s)` +
      (window.peak ? `, peak ${window.peak.total} at ${window.peak.time}` : '') +
      '.',
    window.firstQualifying
      ? `SOFA ${window.firstQualifying.total} at ${window.firstQualifying.time} is a rise of ${window.firstQualifying.rise} >= ${rules.sofaRise.points} from baseline ${baseline.value}: Sepsis-3 met, onset ${formatInstant(onsetMs as number)} (the later of suspicion and SOFA rise).`
      : `No SOFA value in the window rises >= ${rules.sofaRise.points} above baseline ${baseline.value}: Sepsis-3 not met${episodes.length > 1 ? ` (none of the ${episodes.length} suspicion episodes has one)` : ''}.`,
  );
  const septicShock = assessShock(met, input.shock, rules);
  explanation.push(`Septic shock: ${septicShock.status} - ${septicShock.reason}.`);

  return ok({
    ruleSet,
    met,
    onsetTime: onsetMs === null ? null : formatInstant(onsetMs),
    suspectedInfection: { met: true, episodes: episodes.map(strip) },
    episode: strip(chosen),
    baseline,
    sofaWindow: window,
    septicShock,
    explanation,
  });
}
