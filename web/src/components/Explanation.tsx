/**
 * Why the patient has this immune class, in plain words: each comparison the rule set made,
 * with the value, its unit, when it was sampled and how old it was; what was missing, stale or
 * refused; and the rule set (id, version, thresholds) with its sources.
 */
import { classLabel } from './ClassBadge.tsx';
import { formatAgeHours, formatDateTime, formatValue, unitLabel } from '../format.ts';
import type { Citation, Classification, Comparison, RuleSetsResponse } from '../types.ts';
import { thresholdsOf } from '../types.ts';

const OPERATOR_WORDS: Record<string, string> = { '>': 'above', '>=': 'at or above', '<': 'below', '<=': 'at or below' };
const NEGATED_WORDS: Record<string, string> = { '>': 'not above', '>=': 'below', '<': 'not below', '<=': 'above' };

const CONCEPT_LABELS: Record<string, string> = {
  ferritin: 'Ferritin',
  hla_dr: 'Monocyte HLA-DR',
  hla_dr_percent: 'HLA-DR (% positive monocytes)',
  suPAR: 'suPAR',
  hscore: 'HScore',
  ferritin_fall: 'Ferritin fall',
};

export function conceptLabel(concept: string): string {
  return CONCEPT_LABELS[concept] ?? concept.replace(/_/g, ' ');
}

const CLASS_MEANING: Record<string, string> = {
  MALS: 'MALS: macrophage activation-like syndrome (hyperinflammation).',
  immunoparalysis: 'Immunoparalysis: MALS is ruled out and monocyte HLA-DR is low.',
  unclassified: 'Unclassified: neither MALS nor immunoparalysis. Not eligible for targeted immunotherapy.',
  indeterminate: 'Indeterminate: the rule set cannot decide with the valid data available.',
};

function sentence(c: Comparison, evaluatedAt: string): string {
  const when = c.time ? ` on ${formatDateTime(c.time)} (${formatAgeHours((Date.parse(evaluatedAt) - Date.parse(c.time)) / 3_600_000)} before evaluation)` : '';
  const words = c.result ? OPERATOR_WORDS[c.operator] : NEGATED_WORDS[c.operator];
  return `${conceptLabel(c.input)} was ${formatValue(c.value)} ${unitLabel(c.unit)}${when}: ${words ?? c.operator} the threshold of ${formatValue(c.threshold)} ${unitLabel(c.thresholdUnit)}.`;
}

export function Explanation({
  classification: c,
  evidenceAgeHours,
  ruleSets,
  ruleSetsAvailable,
}: {
  classification: Classification;
  evidenceAgeHours: number | null;
  ruleSets: RuleSetsResponse | null;
  ruleSetsAvailable: boolean;
}) {
  const ruleSet = ruleSets?.ruleSets.find((r) => r.id === c.ruleSet.id) ?? null;
  const versionMatches = ruleSet?.version === c.ruleSet.version;
  const citations = new Map<string, Citation>((ruleSets?.citations ?? []).map((ci) => [ci.id, ci]));
  return (
    <section class="explanation" aria-labelledby="why-h">
      <h2 id="why-h">Why {classLabel(c.class)}?</h2>
      <p class="plain">{CLASS_MEANING[c.class] ?? c.class}</p>
      {c.evidence.comparisons.length > 0 ? (
        <ol class="comparisons">
          {c.evidence.comparisons.map((comparison) => (
            <li class={comparison.result ? 'cmp-true' : 'cmp-false'}>
              <span class="cmp-mark" aria-hidden="true">
                {comparison.result ? '✓' : '✗'}
              </span>{' '}
              {sentence(comparison, c.evaluatedAt)} <span class="cell-sub">[{comparison.rule}: {comparison.text}]</span>
            </li>
          ))}
        </ol>
      ) : null}
      {c.missing && c.missing.length > 0 ? (
        <p class="flag">
          Missing (no usable result): {c.missing.map(conceptLabel).join(', ')}.
        </p>
      ) : null}
      {c.stale && c.stale.length > 0 ? (
        <ul class="flag">
          {c.stale.map((s) => (
            <li>
              {conceptLabel(s.concept)} {formatValue(s.value)} {unitLabel(s.unit)} from {formatDateTime(s.time)} is stale:{' '}
              {formatAgeHours(s.ageHours)} old, beyond the {s.windowHours} h validity window. It is not used.
            </li>
          ))}
        </ul>
      ) : null}
      {c.possible && c.possible.length > 0 ? <p>Still possible with what is known: {c.possible.map(classLabel).join(', ')}.</p> : null}
      {c.rejected.length > 0 ? (
        <div class="rejected">
          <h3>Results refused by the rule set</h3>
          <ul>
            {c.rejected.map((r) => (
              <li>
                {conceptLabel(r.concept)} {formatValue(r.value)} {unitLabel(r.unit)} ({formatDateTime(r.time)}): {r.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {c.evidence.inputs.length > 0 ? (
        <table class="evidence">
          <caption>
            Results used (evidence age {formatAgeHours(evidenceAgeHours)} at {formatDateTime(c.evaluatedAt)})
          </caption>
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Value</th>
              <th scope="col">As reported</th>
              <th scope="col">Sampled</th>
              <th scope="col">Age</th>
            </tr>
          </thead>
          <tbody>
            {c.evidence.inputs.map((i) => (
              <tr>
                <th scope="row">{conceptLabel(i.concept)}</th>
                <td>
                  {formatValue(i.value)} {unitLabel(i.unit)}
                </td>
                <td>
                  {formatValue(i.reported.value)} {unitLabel(i.reported.unit)}
                </td>
                <td>{formatDateTime(i.time)}</td>
                <td>{formatAgeHours(i.ageHours)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p class="summary-line">
        Server summary: <q>{c.summary}</q>
      </p>
      <div class="ruleset">
        <h3>
          Rule set {c.ruleSet.id} {c.ruleSet.version}
          {ruleSet ? `: ${ruleSet.title}` : ''}
        </h3>
        {ruleSet ? (
          <>
            {!versionMatches ? (
              <p class="flag">The server now publishes version {ruleSet.version}; this result used {c.ruleSet.version}.</p>
            ) : null}
            <p>{ruleSet.summary}</p>
            <details class="thresholds-details">
              <summary>Thresholds of this rule set, each with its source ({thresholdsOf(ruleSet).length + 1})</summary>
              <ul class="thresholds">
                {thresholdsOf(ruleSet).map((t) => (
                  <li>
                    <strong>
                      {t.label} {t.operator} {formatValue(t.value)} {t.displayUnit}
                    </strong>
                    : {t.meaning}. <span class="cell-sub">Source: {citations.get(t.source.citation)?.short ?? t.source.citation}, {t.source.locator}</span>
                  </li>
                ))}
                <li>
                  Results older than {ruleSet.validityWindow.hours} h are stale and not used.{' '}
                  <span class="cell-sub">
                    Source: {citations.get(ruleSet.validityWindow.source.citation)?.short ?? ruleSet.validityWindow.source.citation},{' '}
                    {ruleSet.validityWindow.source.locator}
                  </span>
                </li>
              </ul>
              {ruleSet.notes.length > 0 ? (
                <ul class="notes">
                  {ruleSet.notes.map((n) => (
                    <li>{n}</li>
                  ))}
                </ul>
              ) : null}
            </details>
            <h4>Citations</h4>
            <ul class="citations">
              {ruleSet.citations.map((id) => {
                const ci = citations.get(id);
                return (
                  <li>
                    {ci ? ci.text : id}
                    {ci?.doi ? <> · doi:{ci.doi}</> : null}
                    {ci?.registry?.length ? <> · {ci.registry.join(', ')}</> : null}
                  </li>
                );
              })}
            </ul>
          </>
        ) : (
          <p class="muted">
            {ruleSetsAvailable
              ? 'The rule set details could not be loaded.'
              : 'Thresholds and citations of the rule set: not available on this server (GET /api/rule-sets). See docs/clinical-rules.md.'}
          </p>
        )}
      </div>
    </section>
  );
}
