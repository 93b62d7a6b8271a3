/**
 * SOFA, a pure engine:
 * - thresholds.ts: the threshold tables as versioned data (Vincent 1996 / Sepsis-3 as printed,
 *   with SI columns; mimic-code's reading), each band with its citation;
 * - organs.ts: the six organ scores of single values, with the comparison that fired;
 * - parameters.ts: the conventions the table leaves open, as parameters, and the presets
 *   (`mimic-iv`, default; `vincent1996`);
 * - events.ts + timeline.ts: day and hourly rolling windows from raw canonical measurements;
 * - render.ts: the tables and presets as Markdown for docs/clinical-rules.md.
 */
export * from './types.ts';
export * from './thresholds.ts';
export * from './organs.ts';
export * from './parameters.ts';
export {
  type SofaDaysOptions,
  type SofaDaysResult,
  type SofaHourlyOptions,
  type SofaHourlyResult,
  type SofaPresetOption,
  type SofaRunInfo,
  groupByPatient,
  scoreSofaDays,
  scoreSofaHours,
  sofaDays,
  sofaDaysByPatient,
  sofaHours,
} from './timeline.ts';
export { renderSofaRules, renderSofaRulesMarkdown } from './render.ts';
