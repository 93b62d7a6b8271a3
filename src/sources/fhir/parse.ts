/**
 * FHIR input as chunks of NDJSON lines (Bulk Data export files, .ndjson / .ndjson.gz) or as one
 * JSON document (a single resource or a Bundle: transaction, batch, collection, searchset...).
 */
import { ChunkCollector } from '../collect.ts';
import type { ParseContext, ParseResult } from '../import-format.ts';
import { mapResource } from './adapter.ts';

export const FHIR_SOURCE = 'fhir';

/** One NDJSON line = one record; blank lines are ignored. */
export function parseFhirLines(lines: readonly string[], context: ParseContext): ParseResult {
  return parseFhirLineSource(lines.length, (index) => lines[index]!, context);
}

/**
 * parseFhirLines over `count` lines that `lineAt` hands over one at a time, in order: a reader
 * that decodes each line only when it is parsed holds no chunk of line strings meanwhile
 * (screen-chunks.ts, for the screen's worker threads).
 */
export function parseFhirLineSource(count: number, lineAt: (index: number) => string, context: ParseContext): ParseResult {
  const out = new ChunkCollector(context, FHIR_SOURCE);
  for (let index = 0; index < count; index++) {
    const line = lineAt(index);
    if (isBlank(line)) continue;
    out.begin(context.lineNumbers?.[index] ?? context.firstLineNumber + index);
    let resource: unknown;
    try {
      resource = JSON.parse(line);
    } catch (error) {
      out.error('structure', `invalid JSON: ${(error as Error).message}`);
      out.end();
      continue;
    }
    mapResource(resource, out, context.state);
    out.end();
  }
  return out.result;
}

/** A whole JSON document: a resource, or a Bundle whose entries are the records. */
export function parseFhirDocument(text: string, context: ParseContext): ParseResult {
  const out = new ChunkCollector(context, FHIR_SOURCE);
  let resource: unknown;
  try {
    resource = JSON.parse(text);
  } catch (error) {
    out.begin(1);
    out.error('structure', `invalid JSON: ${(error as Error).message}`);
    out.end();
    return out.result;
  }
  const isBundle = typeof resource === 'object' && resource !== null && (resource as { resourceType?: unknown }).resourceType === 'Bundle';
  if (isBundle) {
    mapResource(resource, out, context.state, '', 0, true);
  } else {
    out.begin(1);
    mapResource(resource, out, context.state);
    out.end();
  }
  return out.result;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
