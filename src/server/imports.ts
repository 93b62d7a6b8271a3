/**
 * Imports over HTTP as jobs any server instance can work on.
 *
 * POST /api/imports stores the upload in the database split into parts of whole lines (FHIR
 * NDJSON or the measurement CSV; a FHIR Bundle is one part), and queues one `import-part` job
 * per part under a parent `import` job. Workers on every instance claim parts (SKIP LOCKED),
 * parse them with the same chunk parsers as `immunoguide import`, and store them; provenance
 * makes a retried part store nothing twice. The parent's status and progress are derived from
 * its parts when asked (GET /api/jobs/:jobId), so no instance keeps any of it in memory.
 *
 * Site isolation: everything goes to the upload's site, which must be one of the caller's;
 * a record about a patient of another site is refused with an issue, never written there.
 */
import { gunzipSync } from 'node:zlib';
import type { FastifyPluginAsync } from 'fastify';
import type { ConceptDictionary } from '../sources/concepts/dictionary.ts';
import { parseFhirDocument } from '../sources/fhir/parse.ts';
import { type ImportIssue, type ParseResult, parseChunk } from '../sources/import-format.ts';
import type { Database } from '../store/db.ts';
import { StoreImportSink } from '../store/import-sink.ts';
import { type Job, childJobs, enqueueJob, getJob, getJobBlob, putJobBlob } from '../store/jobs.ts';
import { auditAccess } from './access-audit.ts';
import { principalOf } from './auth/plugin.ts';
import type { JobHandler } from './jobs/worker.ts';
import { PermanentJobError } from './jobs/worker.ts';
import { HttpProblem } from './problem.ts';

/** Lines per part: small enough that parts spread over workers, large enough to batch inserts. */
export const PART_LINES = 2000;
/** Largest accepted upload (compressed size as sent). */
export const UPLOAD_LIMIT_BYTES = 256 * 1024 * 1024;
const MAX_ISSUES_PER_PART = 200;

export type HttpImportFormat = 'fhir' | 'csv';

interface PartPayload {
  part: number;
  format: HttpImportFormat;
  document: boolean;
  firstLineNumber: number;
  header?: string;
  fileName: string;
  siteId: string;
}

export async function createImportJob(
  db: Database,
  input: { format: HttpImportFormat; siteId: string; fileName: string; content: Buffer; createdBy: string },
): Promise<{ jobId: string; parts: number }> {
  const raw = input.content[0] === 0x1f && input.content[1] === 0x8b ? gunzipSync(input.content) : input.content;
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const document = input.format === 'fhir' && /^\s*\{/.test(text) && !/\}\s*\r?\n\s*\{/.test(text);
  const parts: Array<{ payload: PartPayload; data: string }> = [];
  if (document) {
    parts.push({ payload: { part: 0, format: 'fhir', document: true, firstLineNumber: 1, fileName: input.fileName, siteId: input.siteId }, data: text });
  } else {
    const header = input.format === 'csv' ? lines[0] : undefined;
    const first = header === undefined ? 0 : 1;
    if (header === undefined && lines.length === 0) throw new HttpProblem(400, 'Bad Request', 'The upload is empty.');
    for (let start = first; start < lines.length || (start === first && parts.length === 0); start += PART_LINES) {
      parts.push({
        payload: {
          part: parts.length,
          format: input.format,
          document: false,
          firstLineNumber: start + 1,
          ...(header !== undefined ? { header } : {}),
          fileName: input.fileName,
          siteId: input.siteId,
        },
        data: lines.slice(start, start + PART_LINES).join('\n'),
      });
    }
  }
  return db.transaction(async (tx) => {
    const jobId = await enqueueJob(tx, {
      kind: 'import',
      payload: { format: input.format, fileName: input.fileName, parts: parts.length, lines: lines.length, bytes: input.content.length },
      siteId: input.siteId,
      createdBy: input.createdBy,
    });
    // The parent is bookkeeping only: no worker runs it ('running' with no lease is never claimed).
    await tx.query(`UPDATE job SET status = 'running', started_at = now() WHERE id = $1`, [jobId]);
    for (const { payload, data } of parts) {
      const partId = await enqueueJob(tx, { kind: 'import-part', payload: { ...payload }, siteId: input.siteId, createdBy: input.createdBy, parentId: jobId });
      await putJobBlob(tx, partId, 0, Buffer.from(data, 'utf8'));
    }
    return { jobId, parts: parts.length };
  });
}

/** The worker side: parse one part and store it in the upload's site. */
export function importPartHandler(dictionary: ConceptDictionary): JobHandler {
  return async (job, ctx) => {
    const payload = job.payload as unknown as PartPayload;
    const blob = await getJobBlob(ctx.db, job.id, 0);
    if (blob === undefined) throw new PermanentJobError(`the upload of part ${payload.part} is missing`);
    const context = {
      firstLineNumber: payload.firstLineNumber,
      ...(payload.header !== undefined ? { header: payload.header } : {}),
      fileName: payload.fileName,
      siteId: payload.siteId,
      source: payload.format === 'csv' ? `csv:${payload.fileName}` : 'fhir',
      dictionary,
    };
    const parsed: ParseResult = payload.document ? parseFhirDocument(blob.toString('utf8'), context) : parseChunk(payload.format, blob.toString('utf8'), context);
    const issues: ImportIssue[] = [...parsed.issues];

    // Site isolation: patients that exist at another site are not written to.
    const ids = [...new Set([...parsed.patients.map((p) => p.id), ...parsed.measurements.map((m) => m.patientId)])];
    const foreign = new Set<string>();
    if (ids.length > 0) {
      const existing = await ctx.db.query<{ id: string; site_id: string }>('SELECT id, site_id FROM patient WHERE id = ANY($1)', [ids]);
      for (const row of existing.rows) if (row.site_id !== payload.siteId) foreign.add(row.id);
    }
    for (const id of foreign) {
      issues.push({ severity: 'error', code: 'conflict', diagnostics: `patient ${id} is not a patient of site ${payload.siteId}: its records were not imported`, location: [`part ${payload.part + 1}`], file: payload.fileName });
    }
    const sink = new StoreImportSink(ctx.db);
    const measurements = parsed.measurements.filter((m) => !foreign.has(m.patientId));
    const written = await sink.write({
      fileKey: `job:${job.parentId}:${payload.part}`,
      file: payload.fileName,
      throughLine: payload.firstLineNumber + PART_LINES,
      complete: true,
      records: parsed.records,
      patients: parsed.patients.filter((p) => !foreign.has(p.id)).map((p) => ({ ...p, siteId: payload.siteId })),
      measurements,
      defaultSiteId: payload.siteId,
    });
    issues.push(...written.issues);
    return {
      records: parsed.records,
      rejected: parsed.rejected,
      measurements: measurements.length,
      stored: written.inserted,
      issues: issues.slice(0, MAX_ISSUES_PER_PART),
      issuesTruncated: Math.max(0, issues.length - MAX_ISSUES_PER_PART),
    } as Record<string, unknown>;
  };
}

export interface ImportStatus {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  fileName: unknown;
  createdAt: string;
  progress: { parts: number; partsDone: number; partsFailed: number; records: number; stored: number; rejected: number; done: number; total: number };
  issues: unknown[];
  /** Issues found but not listed (each part keeps its first MAX_ISSUES_PER_PART). */
  issuesOmitted: number;
  errors: string[];
  /** When finished: the summary (the same numbers) with the issues, as `immunoguide import` reports them. */
  result: { records: number; inserted: number; rejected: number; issues: unknown[]; issuesOmitted: number } | null;
}

/** The import's state, derived from its parts. */
export function importStatus(parent: Job, unordered: Job[]): ImportStatus {
  const parts = [...unordered].sort((a, b) => Number(a.payload.part) - Number(b.payload.part));
  const done = parts.filter((p) => p.status === 'succeeded');
  const failed = parts.filter((p) => p.status === 'failed');
  const sum = (key: string) => done.reduce((total, p) => total + Number((p.result ?? {})[key] ?? 0), 0);
  const status: ImportStatus['status'] =
    failed.length > 0 && done.length + failed.length === parts.length
      ? 'failed'
      : done.length === parts.length
        ? 'succeeded'
        : parts.some((p) => p.status === 'running') || done.length > 0
          ? 'running'
          : 'queued';
  const issues = done.flatMap((p) => ((p.result ?? {}).issues as unknown[] | undefined) ?? []);
  const records = sum('records');
  const stored = sum('stored');
  const rejected = sum('rejected');
  const issuesOmitted = sum('issuesTruncated');
  return {
    id: parent.id,
    kind: parent.kind,
    status,
    fileName: parent.payload.fileName,
    createdAt: parent.createdAt,
    progress: { parts: parts.length, partsDone: done.length, partsFailed: failed.length, records, stored, rejected, done: done.length, total: parts.length },
    issues,
    issuesOmitted,
    errors: failed.map((p) => p.error ?? 'failed'),
    result: status === 'succeeded' || status === 'failed' ? { records, inserted: stored, rejected, issues, issuesOmitted } : null,
  };
}

/** FHIR (a JSON document or NDJSON) or the measurement CSV, from the first bytes; never a guess beyond that. */
function detectFormat(body: Buffer): HttpImportFormat {
  const head = (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).subarray(0, 4096).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('{')) return 'fhir';
  if (/^"?patient_id"?\s*,/i.test(head.split(/\r?\n/, 1)[0] ?? '')) return 'csv';
  throw new HttpProblem(400, 'Bad Request', 'Cannot tell the format: give format=fhir or format=csv (a measurement CSV starts with the header patient_id,time,concept,value,unit).');
}

export const importRoutes: FastifyPluginAsync<{ db: Database; onEnqueued?: () => void }> = async (app, { db, onEnqueued }) => {
  for (const type of ['text/csv', 'application/x-ndjson', 'application/ndjson', 'application/fhir+ndjson', 'application/fhir+json', 'application/gzip', 'application/octet-stream', 'text/plain']) {
    if (!app.hasContentTypeParser(type)) app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT_BYTES }, (_request, body, done) => done(null, body));
  }

  app.post(
    '/api/imports',
    {
      config: { permission: 'import:run' },
      bodyLimit: UPLOAD_LIMIT_BYTES,
      schema: {
        tags: ['imports'],
        summary: 'Upload a FHIR NDJSON / Bundle or a measurement CSV (raw body, optionally gzip); returns the import job',
        querystring: {
          type: 'object',
          required: ['site'],
          properties: {
            site: { type: 'string', description: 'the site the data belongs to (one of yours)' },
            format: { type: 'string', enum: ['fhir', 'csv', ''], description: 'default: detected from the content' },
            filename: { type: 'string', maxLength: 200 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const query = request.query as { site: string; format?: HttpImportFormat | ''; filename?: string };
      const principal = principalOf(request);
      if (!principal.sites.includes(query.site)) throw new HttpProblem(403, 'Forbidden', `You cannot import into site ${query.site}.`);
      const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new HttpProblem(400, 'Bad Request', 'Send the file as the request body (Content-Type text/csv, application/x-ndjson, application/fhir+json or application/gzip).');
      }
      const format = query.format || detectFormat(body);
      const created = await createImportJob(db, {
        format,
        siteId: query.site,
        fileName: query.filename ?? `upload.${format === 'csv' ? 'csv' : 'ndjson'}`,
        content: body,
        createdBy: principal.id,
      });
      auditAccess(request, { action: 'import:create', siteId: query.site, outcome: 'allowed' });
      onEnqueued?.();
      return reply.code(202).header('location', `/api/jobs/${created.jobId}`).send({ jobId: created.jobId, parts: created.parts });
    },
  );

  app.get(
    '/api/jobs/:jobId',
    {
      config: { permission: 'import:run' },
      schema: { tags: ['imports'], summary: 'An import job: status, progress and the issues found', params: { type: 'object', required: ['jobId'], properties: { jobId: { type: 'string' } } } },
    },
    async (request) => {
      const { jobId } = request.params as { jobId: string };
      const job = await getJob(db, jobId);
      if (!job || job.kind !== 'import' || job.siteId === null || !principalOf(request).sites.includes(job.siteId)) {
        throw new HttpProblem(404, 'Not Found', `Job ${jobId} was not found.`);
      }
      return importStatus(job, await childJobs(db, jobId));
    },
  );
};
