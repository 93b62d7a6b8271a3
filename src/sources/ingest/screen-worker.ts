/**
 * A worker thread of the parallel screen (screen-parallel.ts): parses the chunks of lines it is
 * sent with the same chunk parsers as `immunoguide import`, packs the measurements into columns
 * for the trip back, and assesses the patients it is sent (screenPatient, as in-process).
 *
 * Parser state: chunks of stateful formats (the MIMIC-IV tables) all come to one worker, in
 * order, and use a plain state as runImport does; chunks of the other formats use a replica of
 * the state that logs what each chunk read and changed (screen-state.ts), for the main thread
 * to check against the exact state.
 */
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { findImmuneRuleSet } from '../../clinical/immune/index.ts';
import type { ImmuneRuleSet } from '../../clinical/immune/types.ts';
import { buildDictionary } from '../concepts/dictionary.ts';
import { parseFhirLineSource } from '../fhir/parse.ts';
import { type ParseContext, type ParserState, createParserState, finishParse, parseChunk } from '../import-format.ts';
import type { ToMain, ToWorker, WorkerInit } from './screen-parallel.ts';
import { ChunkLineReader, recordsOfChunk } from './screen-chunks.ts';
import { Codes, PatientColumns, packRows, screenPatient } from './screen-patient.ts';
import { TrackedState } from './screen-state.ts';

const init = workerData as WorkerInit;
const built = buildDictionary(init.dictionary.data, init.dictionary.sources);
if (!built.ok) throw new Error(`concept dictionary: ${built.problems.join('; ')}`);
const dictionary = built.dictionary;
const cited = new Set<string>(init.cited);
const ruleSet: ImmuneRuleSet | undefined = 'ruleSetId' in init.ruleSet ? findImmuneRuleSet(init.ruleSet.ruleSetId) : init.ruleSet.ruleSet;
if (ruleSet === undefined) throw new Error('unknown immune rule set');
const settings = { ruleSet, sofaPreset: init.sofaPreset, ...(init.at === undefined ? {} : { at: init.at }) };

/** This worker's string table; strings new since the last message travel with it. */
const codes = new Codes();
let codesSent = 0;
const replicas = new Map<string, TrackedState>();
const states = new Map<string, ParserState>();
/** The main thread's string table, for assessing. */
let mainCodes: readonly string[] = [];

const post = (message: ToMain, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(message, transfer);

parentPort!.on('message', (message: ToWorker) => {
  if (message.type === 'assess') {
    if (message.codes !== undefined) {
      // The first batch: the read is over, and with it the parser states (charted weights and
      // remembered resources, megabytes on a large extract).
      mainCodes = message.codes;
      replicas.clear();
      states.clear();
    }
    const results = message.patients.map((patient) => screenPatient(new PatientColumns(patient), mainCodes, settings));
    post({ type: 'assessed', batch: message.batch, results, heapBytes: v8.getHeapStatistics().total_heap_size });
    return;
  }
  let state: ParserState;
  let replica: TrackedState | undefined;
  if (message.replicated) {
    replica = replicas.get(message.family);
    if (replica === undefined) replicas.set(message.family, (replica = new TrackedState()));
    replica.sync(message.sync);
    replica.begin();
    state = replica;
  } else {
    let plain = states.get(message.family);
    if (plain === undefined) states.set(message.family, (plain = createParserState()));
    state = plain;
  }
  const base = { fileName: message.fileName, source: message.source, dictionary, state };
  let result;
  if (message.type === 'finish') {
    result = finishParse(message.format, { ...base, firstLineNumber: 1 });
  } else if (message.type === 'parse-bytes' && message.format === 'fhir') {
    // Lines decoded one at a time as they are parsed (recordsOfChunk's lines, numbered from the
    // chunk's first line: FHIR NDJSON has no header).
    const reader = new ChunkLineReader(message.bytes, message.length, message.first);
    result = parseFhirLineSource(message.lineCount, (index) => reader.line(index), { ...base, firstLineNumber: message.firstLine });
  } else if (message.type === 'parse-bytes') {
    const records = recordsOfChunk({ bytes: message.bytes, length: message.length, first: message.first, firstLine: message.firstLine, lines: message.lineCount }, message.withHeader, message.header);
    result = parseChunk(message.format, records.lines, {
      ...base,
      firstLineNumber: records.firstLineNumber,
      lineNumbers: records.lineNumbers,
      ...(records.header === undefined ? {} : { header: records.header }),
    });
  } else {
    // The line numbers as runImport passes them: an array even when consecutive.
    const lineNumbers = message.lineNumbers ?? Array.from({ length: message.lines.length }, (_, i) => message.firstLineNumber + i);
    const context: ParseContext = { ...base, firstLineNumber: message.firstLineNumber, lineNumbers, ...(message.header === undefined ? {} : { header: message.header }) };
    result = parseChunk(message.format, message.lines, context);
  }
  const log = replica?.end(message.seq, true);
  const rows = packRows(result.measurements, codes, cited);
  const newCodes = codes.values.slice(codesSent);
  codesSent = codes.values.length;
  post(
    {
      type: 'parsed',
      seq: message.seq,
      records: result.records,
      rejected: result.rejected,
      skipped: result.skipped,
      issues: result.issues,
      unmapped: [...result.unmapped],
      patients: result.patients,
      rows,
      newCodes,
      ...(log === undefined ? {} : { log }),
      // Back to the main thread, which parses the chunk again when its check fails.
      ...(message.type === 'parse-bytes' ? { bytes: message.bytes } : {}),
    },
    message.type === 'parse-bytes' ? [rows.buffer, message.bytes] : [rows.buffer],
  );
});
