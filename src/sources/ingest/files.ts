/**
 * Which files an import reads, in which order, as which format: PATHs may be files or
 * directories (a FHIR Bulk Data export directory, a MIMIC-IV directory with hosp/ and icu/,
 * or a folder of CSV files). The format comes from --format, else from the file name, else
 * from the first line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type ChunkFormat, type ImportFormat, MIMIC_TABLES, type MimicTable } from '../import-format.ts';
import { MIMIC_COLUMNS } from '../mimic/parse.ts';
import { firstLine } from './lines.ts';

// Kept importable from here, where it was first.
export { firstLine };

export type FileFormat = ChunkFormat | 'fhir-document';

export interface InputFile {
  path: string;
  format: FileFormat;
  size: number;
  mtimeMs: number;
}

export class InputError extends Error {
  override name = 'InputError';
}

const DATA_FILE = /\.(ndjson|jsonl|json|csv)(\.gz)?$/i;
/** FHIR resources read first so later ones can use them (Patients for sites, weights for rates). */
const FHIR_ORDER = [
  'Patient',
  'Device',
  'Medication',
  'Specimen',
  'Encounter',
  'Condition',
  'Observation',
  'Procedure',
  'DeviceUseStatement',
  'DiagnosticReport',
  'MedicationAdministration',
];

/** The files to import, in reading order. Throws InputError for a missing path or an unknown format. */
export function discoverInputs(paths: readonly string[], format: ImportFormat | undefined): InputFile[] {
  const files: InputFile[] = [];
  for (const input of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch {
      throw new InputError(`${input}: no such file or directory`);
    }
    if (stat.isDirectory()) files.push(...directoryInputs(input, format));
    else files.push(fileInput(input, stat, format));
  }
  return orderInputs(files);
}

function directoryInputs(dir: string, format: ImportFormat | undefined): InputFile[] {
  const mimic = mimicTableFiles(dir);
  if (format === 'mimic-iv' || (format === undefined && mimic.length > 0)) {
    if (mimic.length === 0) throw new InputError(`${dir}: no MIMIC-IV tables (${MIMIC_TABLES.join(', ')}) as .csv or .csv.gz in it, hosp/ or icu/`);
    return mimic.map(({ file, table }) => ({ ...statOf(file), format: `mimic-iv:${table}` as const }));
  }
  const found = walk(dir).filter((file) => DATA_FILE.test(file));
  if (found.length === 0) throw new InputError(`${dir}: no .ndjson, .json or .csv files in it`);
  return found.map((file) => fileInput(file, fs.statSync(file), format));
}

/** MIMIC-IV tables in the published layout: DIR/hosp/*.csv(.gz), DIR/icu/*.csv(.gz), or DIR itself. */
function mimicTableFiles(dir: string): Array<{ file: string; table: MimicTable }> {
  const result: Array<{ file: string; table: MimicTable }> = [];
  for (const sub of ['hosp', 'icu', '.']) {
    const base = path.join(dir, sub);
    if (!fs.existsSync(base) || !fs.statSync(base).isDirectory()) continue;
    for (const name of fs.readdirSync(base).sort()) {
      const table = mimicTableOf(name);
      if (table !== undefined) result.push({ file: path.join(base, name), table });
    }
  }
  return result;
}

function mimicTableOf(fileName: string): MimicTable | undefined {
  const match = /^([a-z_]+)\.csv(\.gz)?$/i.exec(fileName);
  const name = match?.[1]?.toLowerCase();
  return (MIMIC_TABLES as readonly string[]).includes(name ?? '') ? (name as MimicTable) : undefined;
}

function fileInput(file: string, stat: fs.Stats, format: ImportFormat | undefined): InputFile {
  const base = { path: file, size: stat.size, mtimeMs: stat.mtimeMs };
  const name = path.basename(file);
  const lower = name.toLowerCase();
  const table = mimicTableOf(name);
  const json = /\.json(\.gz)?$/.test(lower);
  switch (format) {
    case 'fhir':
      return { ...base, format: json ? 'fhir-document' : 'fhir' };
    case 'csv':
      return { ...base, format: 'csv' };
    case 'mimic-iv': {
      const detected = table ?? mimicTableFromHeader(firstLine(file));
      if (detected === undefined) throw new InputError(`${file}: not a MIMIC-IV table (name it after its table, e.g. labevents.csv.gz)`);
      return { ...base, format: `mimic-iv:${detected}` };
    }
    case undefined:
      break;
  }
  if (/\.(ndjson|jsonl)(\.gz)?$/.test(lower)) return { ...base, format: 'fhir' };
  if (json) return { ...base, format: 'fhir-document' };
  const head = firstLine(file);
  if (table !== undefined && mimicTableFromHeader(head) === table) return { ...base, format: `mimic-iv:${table}` };
  if (/\.csv(\.gz)?$/.test(lower)) {
    const fromHeader = mimicTableFromHeader(head);
    return { ...base, format: fromHeader === undefined ? 'csv' : `mimic-iv:${fromHeader}` };
  }
  // No telling extension: look at the content.
  const trimmed = head.trim();
  if (trimmed.startsWith('{')) {
    try {
      JSON.parse(trimmed);
      return { ...base, format: 'fhir' };
    } catch {
      return { ...base, format: 'fhir-document' };
    }
  }
  if (/(^|,)\s*patient_id\s*(,|$)/.test(trimmed) && /(^|,)\s*concept\s*(,|$)/.test(trimmed)) return { ...base, format: 'csv' };
  const fromHeader = mimicTableFromHeader(head);
  if (fromHeader !== undefined) return { ...base, format: `mimic-iv:${fromHeader}` };
  throw new InputError(`${file}: cannot tell the format (use --format fhir|mimic-iv|csv)`);
}

/** The MIMIC-IV table whose columns a header has (the most specific match). */
function mimicTableFromHeader(header: string): MimicTable | undefined {
  const columns = new Set(header.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase()));
  const matches = MIMIC_TABLES.filter((table) => MIMIC_COLUMNS[table].every((c) => columns.has(c)));
  matches.sort((a, b) => MIMIC_COLUMNS[b].length - MIMIC_COLUMNS[a].length);
  return matches[0];
}

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walk(full) : entry.isFile() ? [full] : [];
    });
}

function statOf(file: string): { path: string; size: number; mtimeMs: number } {
  const stat = fs.statSync(file);
  return { path: file, size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * Reading order: MIMIC-IV tables in dependency order (icustays before the events that need
 * its admission times), FHIR files by resource type (Patients first, MedicationAdministration
 * after the weights), CSV as given.
 */
function orderInputs(files: InputFile[]): InputFile[] {
  const rank = (file: InputFile): number => {
    if (file.format.startsWith('mimic-iv:')) return 1000 + MIMIC_TABLES.indexOf(file.format.slice(9) as MimicTable);
    if (file.format === 'fhir' || file.format === 'fhir-document') {
      const name = path.basename(file.path);
      const index = FHIR_ORDER.findIndex((type) => name.startsWith(`${type}.`) || name.startsWith(`${type}-`) || name.startsWith(`${type}_`));
      return index === -1 ? FHIR_ORDER.length - 0.5 : index;
    }
    return 2000;
  };
  return files
    .map((file, index) => ({ file, index }))
    .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
    .map(({ file }) => file);
}
