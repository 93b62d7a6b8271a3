/** The SOFA bands and presets as Markdown for docs/clinical-rules.md (rendered from rules.ts). */
import { FIXED_BANDS, type RisingBands, SOFA_CITATION, SOFA_PRESETS, type SofaParameters } from './rules.ts';

function rising(bands: RisingBands): string {
  return bands.bands
    .map(([points, bound], i) => `${points}: ${i === 0 ? (bands.topInclusive ? '>=' : '>') : '>='} ${bound} ${bands.unit}`)
    .join('; ');
}

function presetRows(p: SofaParameters): string[] {
  return [
    `### Preset \`${p.preset}\` ${p.version}: ${p.title}`,
    '',
    `Source: ${p.citation}.`,
    '',
    '| choice | value |',
    '|---|---|',
    `| day windows | [start + 24(k-1) h, start + 24k h); day 1 starts at the first measurement unless a start is given |`,
    `| hourly windows | ${p.hourlyWindowClosure === 'open-closed' ? '(end - 24 h, end]' : '[end - 24 h, end)'} |`,
    `| FiO2 for a PaO2 | same time, else the latest within ${p.respiration.fio2LookbackHours} h; ${p.respiration.fio2Default === null ? 'no room-air default (no P/F without a charted FiO2)' : `${p.respiration.fio2Default} assumed when none`} |`,
    `| ventilation flag | a charted 1/0 holds up to ${p.respiration.ventilationFlagHoldHours} h; intervals as charted |`,
    `| catecholamines | ${p.vasopressors.sampling === 'hour-end' ? 'rate of the infusion running at each hour end (no minimum duration)' : `runs of at least ${p.vasopressors.minimumMinutes} min`}; a point rate holds until the next charting, at most ${p.vasopressors.pointRateHoldHours} h |`,
    `| urine output | volumes charted in the window over ${p.urineOutput.minCoverageHours}-${p.urineOutput.maxCoverageHours} h of collection, scaled to 24 h; otherwise not used |`,
    `| bilirubin | ${rising(p.liver.conventional)} (SI: ${rising(p.liver.si)}) |`,
    `| creatinine | ${rising(p.renalCreatinine.conventional)} (SI: ${rising(p.renalCreatinine.si)}) |`,
    '',
  ];
}

export function renderSofaRulesMarkdown(): string {
  const r = FIXED_BANDS.respiration;
  const cv = FIXED_BANDS.cardiovascular;
  return [
    '## SOFA',
    '',
    `Each organ 0-4, total 0-24, worst value of the window. Source: ${SOFA_CITATION}.`,
    'A component with no usable input is reported as missing and counts 0 in the total: "not measured" is never shown as "normal".',
    'Values reported in SI units are scored against the printed SI column (the table\'s SI bounds are not exact conversions).',
    '',
    '| organ | points |',
    '|---|---|',
    `| respiration (P/F, mmHg) | ${r.mmHg.map(([p, below]) => `${p}: < ${below}`).join('; ')}; 3-4 only with invasive ventilation (else capped at 2) |`,
    `| respiration (P/F, kPa) | ${r.kPa.map(([p, below]) => `${p}: < ${below}`).join('; ')} |`,
    `| coagulation (platelets 10^3/uL) | ${FIXED_BANDS.coagulation.map(([p, below]) => `${p}: < ${below}`).join('; ')} |`,
    `| cardiovascular | 1: MAP < ${cv.mapBelowMmHg} mmHg; 2: dopamine <= ${cv.dopamineAbove3} or any dobutamine; 3: dopamine > ${cv.dopamineAbove3} or epinephrine / norepinephrine <= ${cv.epinephrineOrNorepinephrineAbove4}; 4: dopamine > ${cv.dopamineAbove4} or epinephrine / norepinephrine > ${cv.epinephrineOrNorepinephrineAbove4} (ug/kg/min) |`,
    `| CNS (GCS) | ${FIXED_BANDS.cns.map(([p, atMost]) => `${p}: <= ${atMost}`).join('; ')} |`,
    `| renal (urine output mL/day) | ${FIXED_BANDS.urineOutput.map(([p, below]) => `${p}: < ${below}`).join('; ')}; the worse of creatinine and urine output |`,
    '',
    ...Object.values(SOFA_PRESETS).flatMap(presetRows),
  ].join('\n');
}
