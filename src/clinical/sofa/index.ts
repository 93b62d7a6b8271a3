/** SOFA: bands and presets as data (rules.ts), per-organ points (score.ts), windows over time (timeline.ts). */
export * from './rules.ts';
export * from './score.ts';
export { SofaIndex, type SofaDay, type SofaDaysOptions, type SofaHour, type SofaHoursOptions, type SofaInput, type SofaWindowScore, scoreWindow, sofaDays, sofaHours } from './timeline.ts';
