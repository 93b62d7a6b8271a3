/**
 * Cards from an evaluation: what the clinician sees in the EHR.
 *
 * - patient-view: one card with the immune class (or what to order when it is indeterminate),
 *   the evidence and its age, today's SOFA, eligibility gaps, the proposed targeted therapy as a
 *   suggestion, and a link to the patient in ImmunoGuide.
 * - order-select / order-sign: one card per drafted anakinra or interferon-gamma order, its
 *   indicator the most severe finding (class does not support the drug, stale or missing
 *   biomarkers, neutropenia, low creatinine clearance, low platelets...), with override reasons.
 *
 * Honesty rules: data we could not retrieve is said to be unavailable, never "missing" or
 * "normal"; nothing is inferred that the data does not show. Summaries stay under 140
 * characters (CDS Hooks 2.0: "<140-character summary"); the full reasoning is in the detail
 * (GitHub-flavoured Markdown), with every number, unit, sample time and rule set version.
 */
import type { FhirResource, MedicationRequest } from 'fhir/r4.js';
import type { PatientAssessment, SofaDaySummary } from '../../clinical/assessment.ts';
import type { ImmuneClassification } from '../../clinical/immune/types.ts';
import { type DrugName, IMMUNOSEP_THERAPY_RULES, type Regimen, type SafetyWarning, type TherapyPatientFacts, assessSafety, regimenFor } from '../../clinical/therapy.ts';
import type { Concept, IsoDateTime } from '../../clinical/types.ts';
import type { ConceptDictionary } from '../../sources/concepts/dictionary.ts';
import { type DrugMatch, proposalCodings, targetedDrugIn } from './drugs.ts';
import { ORDERABLE_BIOMARKERS, proposedMedicationRequest, proposedServiceRequest } from './fhir-proposals.ts';
import type { PatientData } from './patient-data.ts';
import type { CdsCatalog } from './services.ts';
import type { CdsCard, CdsCoding, CdsIndicator, CdsLink, CdsSuggestion } from './types.ts';

/** Everything the cards are built from. */
export interface Evaluation {
  patientId: string;
  at: IsoDateTime;
  assessment: PatientAssessment;
  facts: TherapyPatientFacts;
  data: PatientData;
  /** Resources that could not be turned into clinical values, said in words. */
  unusable: string[];
  /** Concepts seen in the data, e.g. to explain a refused HLA-DR in %. */
  conceptsSeen: ReadonlySet<Concept>;
  /** Targeted drugs already ordered (active MedicationRequest) or given, in words. */
  targetedOnRecord: ReadonlyArray<{ drug: DrugName; text: string }>;
}

export interface CardOptions {
  catalog: CdsCatalog;
  dictionary: ConceptDictionary;
  publicUrl: string | undefined;
  smartLaunchUrl: string | undefined;
  newId: () => string;
}

export const SUMMARY_MAX_CHARS = 139;
const SOURCE_URL = 'https://doi.org/10.1001/jama.2025.24175';
const TOPIC_SYSTEM = 'https://immunoguide.org/fhir/CodeSystem/cds-topic';
export const OVERRIDE_REASON_SYSTEM = 'https://immunoguide.org/fhir/CodeSystem/cds-override-reason';

export const OVERRIDE_REASONS: readonly CdsCoding[] = [
  { system: OVERRIDE_REASON_SYSTEM, code: 'newer-results', display: 'Newer results not yet in the EHR support this order' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'clinical-judgement', display: 'Clinical judgement: expected benefit outweighs the risk' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'trial-protocol', display: 'Ordered under a trial protocol or by the trial pharmacy' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'risk-accepted', display: 'Safety finding known and accepted; will monitor' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'not-applicable', display: 'The advice does not apply to this patient' },
];

const CLASS_WORDS: Record<ImmuneClassification['class'], string> = {
  MALS: 'MALS (hyperinflammation)',
  immunoparalysis: 'immunoparalysis',
  unclassified: 'unclassified',
  indeterminate: 'indeterminate',
};

const CONCEPT_WORDS: Partial<Record<Concept, string>> = { ferritin: 'ferritin', hla_dr: 'mHLA-DR', hla_dr_percent: 'HLA-DR (%)' };

// --- shared pieces ---------------------------------------------------------------------------

export function summaryOf(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= SUMMARY_MAX_CHARS ? oneLine : `${oneLine.slice(0, SUMMARY_MAX_CHARS - 1).trimEnd()}…`;
}

/** Text that came from outside (EHR, FHIR server) must not turn into Markdown links or markup. */
export function md(text: string): string {
  // Links need brackets, HTML and autolinks need angle brackets, code spans backticks: those are
  // escaped. Emphasis characters are left alone: at worst they change the type face.
  return text.replace(/[\\`[\]<>]/g, (c) => `\\${c}`);
}

/** "HLA-DR 3000 molecules/monocyte < 5000 molecules/monocyte" -> "HLA-DR 3000 < 5000 molecules/monocyte". */
function shortComparison(text: string): string {
  return text.replace(/ (molecules\/monocyte|ng\/mL)(?= (?:is not )?[<>])/g, '');
}

function hours(h: number): string {
  if (h < 1) return `${Math.max(0, Math.round(h * 60))} min`;
  return `${h < 10 ? h.toFixed(1).replace(/\.0$/, '') : Math.round(h)} h`;
}

function source(ev: Evaluation, topic: { code: string; display: string }): CdsCard['source'] {
  const rs = ev.assessment.classification.ruleSet;
  return { label: `ImmunoGuide (rule set ${rs.id} ${rs.version})`, url: SOURCE_URL, topic: { system: TOPIC_SYSTEM, ...topic } };
}

function links(ev: Evaluation, options: CardOptions): CdsLink[] | undefined {
  const out: CdsLink[] = [];
  if (options.publicUrl !== undefined) {
    out.push({ label: 'Open the patient in ImmunoGuide', url: `${options.publicUrl}/patients/${encodeURIComponent(ev.patientId)}`, type: 'absolute' });
  }
  if (options.smartLaunchUrl !== undefined) {
    out.push({ label: 'Launch ImmunoGuide (SMART)', url: options.smartLaunchUrl, type: 'smart', appContext: JSON.stringify({ patientId: ev.patientId }) });
  }
  return out.length > 0 ? out : undefined;
}

function keyStatus(ev: Evaluation, key: string) {
  return ev.data.keys.find((k) => k.key === key);
}

export function biomarkersAvailable(ev: Evaluation): boolean {
  return keyStatus(ev, 'biomarkers')?.status === 'ok';
}

function evidenceLines(c: ImmuneClassification): string[] {
  const lines = c.evidence.comparisons.map((comparison) => {
    const input = c.evidence.inputs.find((i) => i.concept === comparison.input && i.time === comparison.time);
    const when = comparison.time ? ` - sampled ${comparison.time}${input ? `, ${hours(input.ageHours)} ago` : ''}` : '';
    return `- ${comparison.text}${when}`;
  });
  if (c.class === 'indeterminate') {
    for (const stale of c.stale) {
      lines.push(`- ${CONCEPT_WORDS[stale.concept] ?? stale.concept} ${stale.value} ${stale.unit} sampled ${stale.time} is **stale**: ${hours(stale.ageHours)} old, valid ${stale.windowHours} h`);
    }
    for (const missing of c.missing) lines.push(`- no valid ${CONCEPT_WORDS[missing] ?? missing} result`);
  }
  for (const rejected of c.rejected) lines.push(`- not used: ${rejected.concept} ${rejected.value} ${md(rejected.unit)} at ${rejected.time}: ${md(rejected.message)}`);
  return lines;
}

/** Today's SOFA, unless none of its six organ systems was measured (a total of 0 from nothing would read as "normal"). */
function sofaToday(sofa: PatientAssessment['sofa']): SofaDaySummary | null {
  const today = sofa.today;
  if (today === null || today.missing.length >= Object.keys(today.components).length) return null;
  return today;
}

function sofaLine(sofa: PatientAssessment['sofa']): string {
  const today = sofaToday(sofa);
  if (today === null) return '**SOFA today:** not computed (no SOFA input measured)';
  const missing = today.missing.length > 0 ? `; not measured (scored 0): ${today.missing.join(', ')}` : '';
  return `**SOFA today:** ${today.total} (${sofa.preset} preset, day ${today.day}, ${today.start} to ${today.end}${missing})`;
}

function eligibilityLines(a: PatientAssessment): string[] {
  const e = a.eligibility;
  if (e === null) return ['**ImmunoSep eligibility:** not assessed'];
  const text = (id: string) => e.results.find((r) => r.id === id);
  const lines = [`**ImmunoSep eligibility (${e.criteriaSet.id} ${e.criteriaSet.version}):** ${e.status}`];
  for (const id of e.failing) {
    const r = text(id);
    if (r) lines.push(`- fails: ${r.text} - ${r.reason}${r.unconfirmed ? ` (unconfirmed: ${r.unconfirmed})` : ''}`);
  }
  const unknown = e.unknown.map((id) => text(id)?.text ?? id);
  if (unknown.length > 0) lines.push(`- still to establish (${unknown.length}): ${unknown.join('; ')}`);
  return lines;
}

function safetyLines(warnings: readonly SafetyWarning[]): string[] {
  const lines: string[] = [];
  for (const w of warnings) {
    const label = w.severity === 'warning' ? 'WARNING' : w.severity === 'advisory' ? 'advisory' : 'not checked';
    lines.push(`- ${label}: ${w.message}${w.unconfirmed ? ` (unconfirmed: ${w.unconfirmed})` : ''}`);
  }
  return lines;
}

function dataLines(ev: Evaluation): string[] {
  const lines = ev.data.keys.map((k) => {
    const where = k.source === 'prefetch' ? 'prefetched by the EHR' : k.source === 'fhir-server' ? "read from the EHR's FHIR server" : 'not obtained';
    return k.status === 'ok'
      ? `- ${k.key}: ${k.count} resource(s) ${where}${k.note ? ` (${md(k.note)})` : ''}`
      : `- ${k.key}: **unavailable** - ${md(k.note ?? 'no reason given')}`;
  });
  for (const note of ev.data.notes) lines.push(`- ${md(note)}`);
  for (const item of ev.unusable) lines.push(`- not used: ${md(item)}`);
  return lines;
}

function section(title: string, lines: readonly string[]): string {
  return lines.length === 0 ? '' : `**${title}**\n\n${lines.join('\n')}`;
}

function detail(parts: ReadonlyArray<string>): string {
  return parts.filter((p) => p.trim() !== '').join('\n\n');
}

function evidenceAgeText(ev: Evaluation): string {
  return ev.assessment.evidenceAgeHours === null ? '' : `, ${hours(ev.assessment.evidenceAgeHours)} ago`;
}

/** The measured inputs, short: "ferritin 900 ng/mL, HLA-DR 9000 molecules/monocyte". */
function inputsText(c: ImmuneClassification): string {
  const label: Record<string, string> = { hla_dr: 'HLA-DR' };
  const unit: Record<string, string> = { '{molecules}/{cell}': 'molecules/monocyte' };
  return c.evidence.comparisons.map((x) => `${label[x.input] ?? x.input} ${x.value} ${unit[x.unit] ?? x.unit}`).join(', ');
}

/** The comparison that decided the class, short: "ferritin 6200 ng/mL > 4420 ng/mL". */
function decidingText(c: ImmuneClassification): string {
  const fired = c.evidence.comparisons.filter((x) => x.result);
  const last = fired.at(-1) ?? c.evidence.comparisons.at(-1);
  return last ? shortComparison(last.text) : '';
}

// --- insufficient data ------------------------------------------------------------------------

export function noDataCard(ev: Evaluation, options: CardOptions): CdsCard {
  const tried = ev.data.keys.some((k) => k.source !== 'none');
  return {
    uuid: options.newId(),
    summary: summaryOf(
      tried
        ? "ImmunoGuide could not read the patient's data from the EHR: immune state not assessed"
        : 'ImmunoGuide received no patient data (no prefetch, no FHIR server access): immune state not assessed',
    ),
    indicator: 'info',
    detail: detail([
      'ImmunoGuide could not obtain any of the patient\'s data for this call, so the immune state was not assessed. Nothing is known to be wrong: nothing could be checked.',
      section('Data', dataLines(ev)),
      'To enable this service, configure the EHR to satisfy the prefetch templates listed at `/cds-services`, or to pass `fhirServer` with `fhirAuthorization`.',
    ]),
    source: source(ev, { code: 'insufficient-data', display: 'Insufficient data' }),
  };
}

export function nothingObtained(ev: Evaluation): boolean {
  return ev.data.keys.every((k) => k.status === 'unavailable');
}

// --- patient-view -----------------------------------------------------------------------------

export function patientViewCards(ev: Evaluation, options: CardOptions): CdsCard[] {
  if (nothingObtained(ev)) return [noDataCard(ev, options)];
  const a = ev.assessment;
  const c = a.classification;
  const today = sofaToday(a.sofa);
  const sofaText = today === null ? '' : `; SOFA today ${today.total}`;
  const common = {
    sofa: sofaLine(a.sofa),
    eligibility: eligibilityLines(a).join('\n'),
    gaps: section('Data gaps', a.dataGaps.map((g) => `- ${g}`)),
    data: section('Data used', dataLines(ev)),
  };
  const cardLinks = links(ev, options);
  const base = { uuid: options.newId(), ...(cardLinks ? { links: cardLinks } : {}) };

  if (!biomarkersAvailable(ev)) {
    const reason = keyStatus(ev, 'biomarkers')?.note ?? 'not obtained';
    return [
      {
        ...base,
        summary: summaryOf(`Immune class not assessed: ferritin/mHLA-DR results could not be retrieved${sofaText}`),
        indicator: 'info',
        detail: detail([
          `ImmunoGuide could not read the biomarker results (${md(reason)}). This does **not** mean they were never measured.`,
          common.sofa,
          common.eligibility,
          common.gaps,
          common.data,
        ]),
        source: source(ev, { code: 'immune-class', display: 'Sepsis immune state' }),
      },
    ];
  }

  const evidence = section(`Evidence (${c.ruleSet.id} ${c.ruleSet.version})`, evidenceLines(c));
  const percentNote =
    ev.conceptsSeen.has('hla_dr_percent') && c.ruleSet.id === 'immunosep'
      ? 'HLA-DR reported as % positive monocytes was found: it is not convertible to molecules per monocyte and is not used by the ImmunoSep rule set.'
      : '';

  if (c.class === 'MALS' || c.class === 'immunoparalysis') {
    const therapy = a.therapy;
    const suggestions: CdsSuggestion[] = [];
    let therapyText = '';
    let safety = '';
    const onRecord = therapy === null ? [] : ev.targetedOnRecord.filter((t) => t.drug === therapy.regimen.drug);
    if (therapy !== null) {
      const flagged = therapy.safety.warnings.filter((w) => w.severity === 'warning');
      const reason = `${c.class} (${c.ruleSet.id} ${c.ruleSet.version}): ${c.evidence.comparisons.map((x) => x.text).join('; ')}`;
      // Never propose what is already ordered or running.
      if (onRecord.length === 0) suggestions.push({
        uuid: options.newId(),
        label: summaryOf(`Propose ${therapy.regimen.description}${flagged.length > 0 ? ` (review ${flagged.length} safety warning(s))` : ''}`),
        actions: [
          {
            type: 'create',
            description: `Create a proposed order (intent proposal): ${therapy.regimen.description}`,
            resource: proposedMedicationRequest(therapy.regimen, proposalCodings(therapy.regimen.drug, options.dictionary), ev.patientId, reason, therapy.safety.warnings),
          },
        ],
      });
      therapyText = [
        `**Targeted therapy (ImmunoSep):** ${therapy.regimen.description}. In the trial it was given double-blind (double dummy: IV infusion 20 mL + SC injection 0.5 mL); safety findings never change the dose.`,
        ...onRecord.map((t) => `Already on record: ${md(t.text)} (no new order proposed).`),
      ].join('\n\n');
      safety = section('Safety checks', safetyLines(therapy.safety.warnings));
    }
    const drugWord = therapy?.regimen.drug === 'anakinra' ? 'anakinra' : 'IFN-gamma';
    const drug = therapy ? (onRecord.length > 0 ? `; on ${drugWord}` : `; ImmunoSep: ${drugWord}`) : '';
    return [
      {
        ...base,
        summary: summaryOf(`Immune class ${c.class}: ${decidingText(c)}${evidenceAgeText(ev)}${sofaText}${drug}`),
        indicator: 'warning',
        detail: detail([`**Immune class: ${CLASS_WORDS[c.class]}**`, evidence, therapyText, safety, common.sofa, common.eligibility, percentNote, common.gaps, common.data]),
        source: source(ev, { code: 'immune-class', display: 'Sepsis immune state' }),
        ...(suggestions.length > 0 ? { suggestions, selectionBehavior: 'at-most-one' as const } : {}),
      },
    ];
  }

  if (c.class === 'unclassified') {
    return [
      {
        ...base,
        summary: summaryOf(`Immune class unclassified (${inputsText(c)}): no targeted therapy${sofaText}`),
        indicator: 'info',
        detail: detail([
          `**Immune class: unclassified** - neither MALS nor immunoparalysis; not eligible for targeted therapy under ImmunoSep.`,
          evidence,
          common.sofa,
          common.eligibility,
          percentNote,
          common.gaps,
          common.data,
        ]),
        source: source(ev, { code: 'immune-class', display: 'Sepsis immune state' }),
      },
    ];
  }

  // Indeterminate: say what to order, and offer the orders.
  const toOrder = biomarkersToOrder(c);
  const suggestions = toOrder.map(
    (concept): CdsSuggestion => ({
      uuid: options.newId(),
      label: `Order ${CONCEPT_WORDS[concept] ?? concept}`,
      actions: [
        {
          type: 'create',
          description: `Create a proposed ${CONCEPT_WORDS[concept] ?? concept} order (intent proposal)`,
          resource: proposedServiceRequest(concept, options.catalog.codings(concept), ev.patientId, orderReason(c, concept)),
        },
      ],
    }),
  );
  const orderWords = toOrder.map((x) => CONCEPT_WORDS[x] ?? x).join(' / ');
  const staleWords = c.stale.map((s) => `${CONCEPT_WORDS[s.concept] ?? s.concept} ${hours(s.ageHours)} old`).join(', ');
  const because = c.stale.length > 0 ? ` (${staleWords}: stale)` : c.missing.includes('ferritin') ? '' : ` (${decidingText(c)})`;
  return [
    {
      ...base,
      summary: summaryOf(`Immune class indeterminate: order ${orderWords}${because}${sofaText}`),
      indicator: 'info',
      detail: detail([
        `**Immune class: indeterminate** - ${c.summary}. Still possible: ${c.possible.join(', ')}.`,
        evidence,
        common.sofa,
        common.eligibility,
        percentNote,
        common.gaps,
        common.data,
      ]),
      source: source(ev, { code: 'immune-class', display: 'Sepsis immune state' }),
      ...(suggestions.length > 0 ? { suggestions, selectionBehavior: 'any' as const } : {}),
    },
  ];
}

/** Biomarkers whose (new) result would move an indeterminate class forward. */
function biomarkersToOrder(c: Extract<ImmuneClassification, { class: 'indeterminate' }>): Concept[] {
  const needed = new Set<Concept>([...c.missing, ...c.stale.map((s) => s.concept)]);
  return ORDERABLE_BIOMARKERS.filter((concept) => needed.has(concept));
}

function orderReason(c: ImmuneClassification, concept: Concept): string {
  const stale = c.class === 'indeterminate' ? c.stale.find((s) => s.concept === concept) : undefined;
  const why = stale ? `newest result is ${hours(stale.ageHours)} old (valid ${stale.windowHours} h)` : 'no valid result';
  return `ImmunoSep immune classification (${c.ruleSet.id} ${c.ruleSet.version}): ${CONCEPT_WORDS[concept] ?? concept} ${why}`;
}

// --- order-select / order-sign -----------------------------------------------------------------

interface Finding {
  indicator: CdsIndicator;
  /** Short, for the summary. */
  short: string;
  /** Full, for the detail. */
  text: string;
}

const RANK: Record<CdsIndicator, number> = { info: 0, warning: 1, critical: 2 };

/** The draft orders a hook asks about: order-select the newly selected ones, order-sign all of them. */
export function draftsToCheck(hook: string, context: { selections?: unknown; draftOrders?: unknown }): FhirResource[] {
  const bundle = context.draftOrders as { entry?: Array<{ resource?: FhirResource }> } | undefined;
  const resources = (bundle?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  if (hook !== 'order-select' || !Array.isArray(context.selections) || context.selections.length === 0) return resources;
  const selected = new Set(context.selections.filter((s): s is string => typeof s === 'string'));
  return resources.filter((r) => r.id !== undefined && selected.has(`${r.resourceType}/${r.id}`));
}

export function orderCards(ev: Evaluation, drafts: readonly FhirResource[], options: CardOptions): CdsCard[] {
  const cards: CdsCard[] = [];
  for (const resource of drafts) {
    const match = targetedDrugIn(resource, options.dictionary);
    if (match === null) continue;
    const request = resource as MedicationRequest;
    const subject = request.subject?.reference;
    if (subject !== undefined && subject !== `Patient/${ev.patientId}` && !subject.endsWith(`/Patient/${ev.patientId}`)) continue;
    cards.push(orderCard(ev, request, match, options));
  }
  return cards;
}

function orderCard(ev: Evaluation, request: MedicationRequest, match: DrugMatch, options: CardOptions): CdsCard {
  const a = ev.assessment;
  const c = a.classification;
  const drug = match.drug;
  const regimen = Object.values(IMMUNOSEP_THERAPY_RULES.regimens).find((r) => r.drug === drug.drug) as Regimen;
  const supportedClass = regimen === IMMUNOSEP_THERAPY_RULES.regimens.MALS ? 'MALS' : 'immunoparalysis';
  const findings: Finding[] = [];
  const suggestions: CdsSuggestion[] = [];
  let selectionBehavior: 'at-most-one' | 'any' = 'at-most-one';
  const draftId = request.id === undefined ? undefined : `MedicationRequest/${request.id}`;

  // 1. Does the immune class support the drug?
  if (!biomarkersAvailable(ev)) {
    const reason = keyStatus(ev, 'biomarkers')?.note ?? 'not obtained';
    findings.push({
      indicator: 'warning',
      short: `immune class unverified (biomarker results unavailable)`,
      text: `The immune class could not be verified: the ferritin/mHLA-DR results could not be retrieved (${md(reason)}).`,
    });
  } else if (c.class === supportedClass) {
    findings.push({ indicator: 'info', short: `fits ${c.class}`, text: `Immune class ${c.class} supports ${drug.label}: ${c.evidence.comparisons.map((x) => x.text).join('; ')}${evidenceAgeText(ev)}.` });
  } else if (c.class === 'MALS' || c.class === 'immunoparalysis') {
    const right = regimenFor(c.class);
    findings.push({
      indicator: 'critical',
      short: `class is ${c.class}, not ${supportedClass}`,
      text: `${drug.label} targets ${supportedClass}, but the immune class is **${c.class}** (${c.evidence.comparisons.map((x) => x.text).join('; ')}${evidenceAgeText(ev)}); ImmunoSep gives ${right?.description ?? 'another regimen'}.`,
    });
    if (draftId !== undefined) suggestions.push(removeSuggestion(draftId, drug.label, options));
    if (right !== null && draftId !== undefined) {
      const reason = `${c.class} (${c.ruleSet.id} ${c.ruleSet.version}): ${c.evidence.comparisons.map((x) => x.text).join('; ')}`;
      suggestions.push({
        uuid: options.newId(),
        label: summaryOf(`Replace with ${right.description}`),
        actions: [
          { type: 'delete', description: `Remove the draft ${drug.label} order`, resourceId: draftId },
          { type: 'create', description: `Create a proposed order: ${right.description}`, resource: proposedMedicationRequest(right, proposalCodings(right.drug, options.dictionary), ev.patientId, reason, assessSafety(right, ev.facts, IMMUNOSEP_THERAPY_RULES).warnings) },
        ],
      });
    }
  } else if (c.class === 'unclassified') {
    findings.push({
      indicator: 'warning',
      short: 'class unclassified: no targeted therapy',
      text: `The immune class is **unclassified** (${c.evidence.comparisons.map((x) => x.text).join('; ')}): not eligible for targeted therapy under ImmunoSep.`,
    });
    if (draftId !== undefined) suggestions.push(removeSuggestion(draftId, drug.label, options));
  } else {
    const stale = c.stale.map((s) => `${CONCEPT_WORDS[s.concept] ?? s.concept} ${hours(s.ageHours)}`);
    const window = c.stale[0]?.windowHours;
    findings.push({
      indicator: 'warning',
      short: stale.length > 0 ? `biomarkers stale: ${stale.join(', ')} old (valid ${window} h)` : `no valid ${c.missing.map((m) => CONCEPT_WORDS[m] ?? m).join('/')} result`,
      text: `No current immune class supports ${drug.label}: ${c.summary}.`,
    });
    for (const concept of biomarkersToOrder(c)) {
      suggestions.push({
        uuid: options.newId(),
        label: `Order ${CONCEPT_WORDS[concept] ?? concept}`,
        actions: [{ type: 'create', description: `Create a proposed ${CONCEPT_WORDS[concept] ?? concept} order (intent proposal)`, resource: proposedServiceRequest(concept, options.catalog.codings(concept), ev.patientId, orderReason(c, concept)) }],
      });
    }
    selectionBehavior = 'any';
  }

  // 2. Safety of this drug for this patient (the rule set's checks; doses are never changed).
  const safety = assessSafety(regimen, ev.facts, IMMUNOSEP_THERAPY_RULES);
  for (const w of safety.warnings) {
    if (w.severity !== 'warning') continue;
    // Neutropenia is an ImmunoSep exclusion and the anakinra label says not to initiate: critical.
    const indicator: CdsIndicator = w.check === 'neutropenia' ? 'critical' : 'warning';
    findings.push({ indicator, short: shortSafety(w), text: `${w.message}${w.unconfirmed ? ` (unconfirmed: ${w.unconfirmed})` : ''}` });
  }

  // 3. Does the drafted dose follow the regimen? (Information only: the clinician decides.)
  const doseNote = doseDifference(request, regimen);

  const worst = findings.reduce<CdsIndicator>((max, f) => (RANK[f.indicator] > RANK[max] ? f.indicator : max), 'info');
  const problems = findings.filter((f) => f.indicator !== 'info').sort((x, y) => RANK[y.indicator] - RANK[x.indicator]);
  const head = problems[0];
  const summary =
    head === undefined
      ? `${capitalise(drug.label)} order fits immune class ${c.class}${evidenceAgeText(ev)}; no safety finding`
      : `${capitalise(drug.label)} order: ${head.short}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`;
  const cardLinks = links(ev, options);
  return {
    uuid: options.newId(),
    summary: summaryOf(summary),
    indicator: worst,
    detail: detail([
      section(`${capitalise(drug.label)} order check (recognised by ${md(match.drug.label)}: ${md(match.matchedBy)})`, findings.map((f) => `- ${f.indicator === 'info' ? '' : `**${f.indicator}**: `}${f.text}`)),
      doseNote,
      section('All safety checks', safetyLines(safety.warnings)),
      sofaLine(a.sofa),
      section('Data used', dataLines(ev)),
    ]),
    source: source(ev, { code: 'targeted-therapy-order', display: 'Targeted immunotherapy order check' }),
    ...(suggestions.length > 0 ? { suggestions, selectionBehavior } : {}),
    ...(worst === 'info' ? {} : { overrideReasons: [...OVERRIDE_REASONS] }),
    ...(cardLinks ? { links: cardLinks } : {}),
  };
}

function removeSuggestion(draftId: string, label: string, options: CardOptions): CdsSuggestion {
  return { uuid: options.newId(), label: `Remove the draft ${label} order`, actions: [{ type: 'delete', description: `Remove the draft ${label} order`, resourceId: draftId }] };
}

function shortSafety(w: SafetyWarning): string {
  const evidence = w.evidence[0];
  const value = evidence && typeof evidence.value === 'number' ? `${Number.isInteger(evidence.value) ? evidence.value : evidence.value.toFixed(1)}` : '';
  switch (w.check) {
    case 'neutropenia':
      return `neutropenia (ANC ${value}/mm3)`;
    case 'renal-function':
      return `CrCl ${value} mL/min < ${w.threshold?.value ?? 30}`;
    case 'haemorrhage':
      return w.code === 'IFNG_HAEMORRHAGE_LOW_PLATELETS' ? `low platelets (${value} x10^3/uL)` : 'bleeding risk';
    case 'anaemia':
      return `low haemoglobin (${value} g/dL)`;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A sentence when the drafted dose, route or interval differs from the regimen; '' when it matches or is not stated. */
function doseDifference(request: MedicationRequest, regimen: Regimen): string {
  const dosage = request.dosageInstruction?.[0];
  if (dosage === undefined) return '';
  const differences: string[] = [];
  const dose = dosage.doseAndRate?.[0]?.doseQuantity;
  if (dose?.value !== undefined) {
    const unit = dose.code ?? dose.unit;
    if (unit !== regimen.doseUnit || dose.value !== regimen.doseAmount) differences.push(`dose ${dose.value} ${md(String(unit ?? ''))} (regimen ${regimen.doseAmount} ${regimen.doseUnit})`);
  }
  const repeat = dosage.timing?.repeat;
  if (repeat?.period !== undefined && repeat.periodUnit !== undefined) {
    const factor: Record<string, number> = { h: 1, d: 24, min: 1 / 60 };
    const perHours = factor[repeat.periodUnit];
    if (perHours !== undefined) {
      const intervalHours = (repeat.period * perHours) / (repeat.frequency ?? 1);
      if (Math.abs(intervalHours - regimen.intervalHours) > 1e-9) differences.push(`every ${Number(intervalHours.toFixed(2))} h (regimen every ${regimen.intervalHours} h)`);
    }
  }
  const routeText = [dosage.route?.text, ...(dosage.route?.coding ?? []).map((c) => `${c.code ?? ''} ${c.display ?? ''}`)].join(' ').toLowerCase();
  if (routeText.trim() !== '') {
    const iv = /\biv\b|intravenous|47625008/.test(routeText);
    const sc = /\bsc\b|subcutaneous|34206005/.test(routeText);
    if ((regimen.route === 'IV' && sc && !iv) || (regimen.route === 'SC' && iv && !sc)) differences.push(`route ${regimen.route === 'IV' ? 'SC' : 'IV'} (regimen ${regimen.route})`);
  }
  if (differences.length === 0) return '';
  return `**Drafted dosing differs from the ImmunoSep regimen** (${regimen.description}): ${differences.join('; ')}. Information only; the clinician decides.`;
}
