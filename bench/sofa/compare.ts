/**
 * bench/sofa/compare.ts: hour-by-hour agreement of two hourly SOFA CSVs.
 *
 *   node --import tsx bench/sofa/compare.ts OURS.csv REFERENCE.csv [--examples 20]
 *
 * Both files have the header of `immunoguide sofa --hourly --out` (mimic-code's column names).
 * Rows are matched on (stay_id, hr). Reported: rows only in one file, and for starttime, endtime,
 * each of the six components and sofa_24hours the number and percentage of matched hours with the
 * same value, the number of stays with any difference, and up to --examples differing rows (at
 * most two per stay) with all columns of both sides. Exit status 1 on any difference (including rows in one file only).
 */
import { pathToFileURL } from 'node:url';
import { SOFA_HOURLY_HEADER, readLines } from './csv.ts';

export interface ColumnAgreement {
  column: string;
  identical: number;
  percent: number;
}

export interface CompareResult {
  matched: number;
  onlyOurs: number;
  onlyReference: number;
  columns: ColumnAgreement[];
  staysWithDifferences: number;
  stays: number;
  differences: number;
  examples: string[];
}

const TIME_COLUMNS = new Set(['starttime', 'endtime']);

async function readKeyed(file: string, label: string): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  let header: string | undefined;
  for await (const line of readLines(file)) {
    if (header === undefined) {
      header = line.trim();
      if (header !== SOFA_HOURLY_HEADER.join(',')) {
        throw new Error(`${label} ${file}: header is\n  ${header}\nexpected\n  ${SOFA_HOURLY_HEADER.join(',')}`);
      }
      continue;
    }
    if (line.trim() === '') continue;
    const second = line.indexOf(',', line.indexOf(',') + 1);
    const key = line.slice(0, second);
    if (rows.has(key)) throw new Error(`${label} ${file}: (stay_id, hr) = (${key}) appears twice`);
    rows.set(key, line);
  }
  if (header === undefined) throw new Error(`${label} ${file} is empty`);
  return rows;
}

function same(column: string, a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || TIME_COLUMNS.has(column)) return false;
  // numbers compare by value, so 3 and 3.0 agree; an empty field only equals an empty field
  return a.trim() !== '' && b.trim() !== '' && Number(a) === Number(b);
}

function describe(line: string): string {
  const fields = line.split(',');
  return SOFA_HOURLY_HEADER.slice(2).map((column, i) => `${column.replace('_24hours', '')}=${fields[i + 2] ?? ''}`).join(' ');
}

export async function compareSofaCsv(oursFile: string, referenceFile: string, maxExamples = 20): Promise<CompareResult> {
  const reference = await readKeyed(referenceFile, 'reference');
  const ours = await readKeyed(oursFile, 'ours');
  const compared = SOFA_HOURLY_HEADER.slice(2);
  const identical = compared.map(() => 0);
  const staysDiffering = new Set<string>();
  const stays = new Set<string>();
  const examples: string[] = [];
  // at most two examples per stay, so the examples show different stays rather than one long run
  const examplesPerStay = new Map<string, number>();
  const example = (stay: string, text: string): void => {
    const seen = examplesPerStay.get(stay) ?? 0;
    if (examples.length >= maxExamples || seen >= 2) return;
    examplesPerStay.set(stay, seen + 1);
    examples.push(text);
  };
  let matched = 0;
  let onlyOurs = 0;
  for (const [key, line] of ours) {
    const stay = key.slice(0, key.indexOf(','));
    stays.add(stay);
    const other = reference.get(key);
    if (other === undefined) {
      onlyOurs++;
      staysDiffering.add(stay);
      example(stay, `only ours       ${key.padEnd(14)} ${describe(line)}`);
      continue;
    }
    matched++;
    const a = line.split(',');
    const b = other.split(',');
    const differing: string[] = [];
    compared.forEach((column, i) => {
      if (same(column, a[i + 2], b[i + 2])) identical[i] = (identical[i] ?? 0) + 1;
      else differing.push(column.replace('_24hours', ''));
    });
    if (differing.length > 0) {
      staysDiffering.add(stay);
      example(stay, `differs (${differing.join(', ')}) at stay_id,hr=${key}\n    ours      ${describe(line)}\n    reference ${describe(other)}`);
    }
  }
  let onlyReference = 0;
  for (const [key, line] of reference) {
    const stay = key.slice(0, key.indexOf(','));
    stays.add(stay);
    if (ours.has(key)) continue;
    onlyReference++;
    staysDiffering.add(stay);
    example(stay, `only reference  ${key.padEnd(14)} ${describe(line)}`);
  }
  const columns = compared.map((column, i) => ({
    column,
    identical: identical[i] ?? 0,
    percent: matched === 0 ? 0 : (100 * (identical[i] ?? 0)) / matched,
  }));
  const differences = onlyOurs + onlyReference + columns.reduce((sum, c) => sum + (matched - c.identical), 0);
  return { matched, onlyOurs, onlyReference, columns, staysWithDifferences: staysDiffering.size, stays: stays.size, differences, examples };
}

export function formatComparison(result: CompareResult): string {
  const lines = [
    `hours matched on (stay_id, hr): ${result.matched.toLocaleString('en-US')}; only in ours: ${result.onlyOurs.toLocaleString('en-US')}; only in reference: ${result.onlyReference.toLocaleString('en-US')}`,
    `stays with any difference: ${result.staysWithDifferences.toLocaleString('en-US')} of ${result.stays.toLocaleString('en-US')}`,
    '',
    '| column | identical hours | % |',
    '|---|---:|---:|',
    ...result.columns.map((c) => `| ${c.column} | ${c.identical.toLocaleString('en-US')} | ${c.percent.toFixed(3)} |`),
  ];
  if (result.examples.length > 0) lines.push('', `${result.examples.length} example differences (at most 2 per stay):`, ...result.examples.map((e) => `  ${e}`));
  lines.push('', result.differences === 0 ? 'AGREEMENT: every hour identical' : `DIFFERENCES: ${result.differences.toLocaleString('en-US')} (rows or cells)`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const examplesIndex = args.indexOf('--examples');
  const files = args.filter((arg, i) => !arg.startsWith('--') && (examplesIndex === -1 || i !== examplesIndex + 1));
  if (files.length !== 2 || files[0] === undefined || files[1] === undefined) {
    console.error('usage: node --import tsx bench/sofa/compare.ts OURS.csv REFERENCE.csv [--examples 20]');
    process.exit(2);
  }
  try {
    const result = await compareSofaCsv(files[0], files[1], examplesIndex === -1 ? 20 : Number(args[examplesIndex + 1]));
    console.log(formatComparison(result));
    process.exit(result.differences === 0 ? 0 : 1);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
