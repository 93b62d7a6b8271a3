/**
 * Imports: upload a file (FHIR R4 Bundle, FHIR Bulk NDJSON, measurement CSV), follow the import
 * job until it ends, then read its summary and error report (each refused line with its number
 * and the reason). POST /api/imports answers a job id at once; GET /api/jobs/{jobId} is polled
 * for the job's progress (parts of whole lines, src/server/imports.ts). Without these endpoints
 * the page says the feature is not available on this server.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useApp, siteName } from '../context.ts';
import { NotAvailable } from '../components/States.tsx';
import type { ApiFailure } from '../api.ts';
import { formatDateTime, plural } from '../format.ts';

/** GET /api/jobs/{jobId} (ImportStatus of src/server/imports.ts). */
export interface ImportJob {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  fileName?: unknown;
  createdAt?: string;
  progress: { parts: number; partsDone: number; partsFailed: number; records: number; stored: number; rejected: number; done: number; total: number };
  issues: ImportIssue[];
  /** Issues found beyond those listed (older servers omit it). */
  issuesOmitted?: number;
  /** Why parts failed (a part that could not be stored at all). */
  errors: string[];
  result: { records: number; inserted: number; rejected: number; issues: ImportIssue[]; issuesOmitted?: number } | null;
}

/** One problem with one record, shaped like a FHIR OperationOutcome issue (src/sources/import-format.ts). */
export interface ImportIssue {
  severity: 'error' | 'warning';
  code: string;
  diagnostics: string;
  /** ["line 12"], or ["line 1", "Bundle.entry[3].resource"], or ["part 2"]. */
  location: string[];
  file: string;
}

const FORMATS = [
  { value: '', label: 'Detect from the file' },
  { value: 'fhir', label: 'FHIR R4 (Bundle JSON or Bulk Data NDJSON)' },
  { value: 'csv', label: 'Measurement CSV (patient_id,time,concept,value,unit)' },
];

/** OperationOutcome issue types in words. */
const ISSUE_KIND: Record<string, string> = {
  structure: 'malformed',
  required: 'missing value',
  value: 'invalid value',
  'code-invalid': 'unknown code',
  conflict: 'conflict',
  informational: 'note',
  invalid: 'invalid',
  'not-supported': 'not supported',
  'too-long': 'line too long',
  incomplete: 'incomplete group',
};

const STATUS_TEXT: Record<ImportJob['status'], string> = {
  queued: 'waiting for a worker',
  running: 'importing',
  succeeded: 'finished',
  failed: 'failed',
};

/** The server reads the body by its content type: name the file's kind explicitly (an OS may call a CSV "application/vnd.ms-excel"). */
function contentTypeOf(file: File, format: string): string {
  const name = file.name.toLowerCase();
  if (name.endsWith('.gz')) return 'application/gzip';
  if (format === 'csv' || name.endsWith('.csv')) return 'text/csv';
  if (name.endsWith('.ndjson')) return 'application/x-ndjson';
  if (name.endsWith('.json')) return 'application/fhir+json';
  return 'application/octet-stream';
}

/** The line number of an issue ("line 12" -> 12), or null for issues about a whole part or file. */
export function issueLine(issue: ImportIssue): number | null {
  const match = /^line (\d+)$/.exec(issue.location[0] ?? '');
  return match ? Number(match[1]) : null;
}

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2000;

export function Imports() {
  const { api, sites, site } = useApp();
  const missing = api.missing('POST /api/imports', 'GET /api/jobs/{jobId}');
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState('');
  const [targetSite, setTargetSite] = useState(site ?? sites[0]?.id ?? '');
  const [upload, setUpload] = useState<{ loaded: number; total: number; done: boolean } | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const timer = useRef<number | undefined>(undefined);
  // The job being followed: an answer about an earlier job (a new upload started) is dropped.
  const following = useRef<string | null>(null);

  useEffect(
    () => () => {
      following.current = null;
      window.clearTimeout(timer.current);
    },
    [],
  );

  const poll = async (id: string, delay: number) => {
    const result = await api.get<ImportJob>(`/api/jobs/${encodeURIComponent(id)}`);
    if (following.current !== id) return;
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    setJob(result.data);
    if (result.data.status === 'queued' || result.data.status === 'running') {
      timer.current = window.setTimeout(() => void poll(id, Math.min(MAX_POLL_MS, delay * 1.5)), delay);
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file || !targetSite) return;
    window.clearTimeout(timer.current);
    following.current = null;
    setFailure(null);
    setJob(null);
    setUpload({ loaded: 0, total: file.size, done: false });
    const query = new URLSearchParams({ site: targetSite, filename: file.name.slice(0, 200), ...(format ? { format } : {}) });
    const result = await api.upload<{ jobId?: string }>(`/api/imports?${query.toString()}`, file, contentTypeOf(file, format), (loaded, total) =>
      setUpload({ loaded, total, done: false }),
    );
    if (!result.ok) {
      setUpload(null);
      setFailure(result.error);
      return;
    }
    setUpload({ loaded: file.size, total: file.size, done: true });
    const id = result.data?.jobId;
    if (typeof id !== 'string') {
      setFailure({ kind: 'server', status: result.status, message: 'The server accepted the file but named no import job to follow.' });
      return;
    }
    following.current = id;
    void poll(id, FIRST_POLL_MS);
  };

  if (missing.length > 0) {
    return (
      <section>
        <h1 tabIndex={-1}>Imports</h1>
        <NotAvailable feature="File import" endpoints={missing} />
      </section>
    );
  }

  const busy = (upload !== null && !upload.done) || (job !== null && (job.status === 'queued' || job.status === 'running'));
  return (
    <section class="imports">
      <h1 tabIndex={-1}>Imports</h1>
      <p class="muted">
        Laboratory results, vital signs and infusions from a FHIR R4 export or the measurement CSV. Bad records never stop an import: each
        one is listed below with its line and the reason, and every good record is stored. Importing the same file again stores nothing
        twice.
      </p>
      <form class="import-form" onSubmit={submit} aria-label="Upload a file to import">
        <label>
          File
          <input
            type="file"
            name="import-file"
            accept=".json,.ndjson,.csv,.gz,.txt,application/json,application/fhir+json,text/csv"
            required
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value)}>
            {FORMATS.map((f) => (
              <option value={f.value}>{f.label}</option>
            ))}
          </select>
        </label>
        <label>
          Site of the data
          <select value={targetSite} onChange={(e) => setTargetSite(e.currentTarget.value)}>
            {sites.map((s) => (
              <option value={s.id}>{s.name}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!file || !targetSite || busy}>
          Upload and import
        </button>
      </form>

      {upload && !upload.done ? (
        <div class="progress-block">
          <label for="upload-progress">Upload: {Math.round((100 * upload.loaded) / Math.max(1, upload.total))}%</label>
          <progress id="upload-progress" max={Math.max(1, upload.total)} value={upload.loaded} />
        </div>
      ) : null}

      {job ? <JobReport job={job} siteLabel={siteName(sites, targetSite)} /> : upload?.done && !failure ? <p role="status">Upload complete: starting the import…</p> : null}

      {failure ? (
        <p class="state state-error" role="alert">
          {failure.kind === 'unavailable' ? `This server does not offer ${failure.endpoint}.` : `Not imported: ${failure.message}`}
        </p>
      ) : null}
    </section>
  );
}

function JobReport({ job, siteLabel }: { job: ImportJob; siteLabel: string }) {
  const finished = job.status === 'succeeded' || job.status === 'failed';
  const p = job.progress;
  const issues = [...(job.result?.issues ?? job.issues ?? [])].sort((a, b) => (issueLine(a) ?? 0) - (issueLine(b) ?? 0));
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  const omitted = job.result?.issuesOmitted ?? job.issuesOmitted ?? 0;
  const fileName = typeof job.fileName === 'string' ? job.fileName : 'the file';
  // Parts are chunks of whole lines; the bar moves as parts are stored (one part for a small file).
  const percent = p.total > 0 ? Math.round((100 * (p.partsDone + p.partsFailed)) / p.total) : finished ? 100 : 0;
  return (
    <section class="job" aria-labelledby="job-h" data-job-id={job.id} data-job-status={job.status}>
      <h2 id="job-h">
        Import of {fileName} into {siteLabel}: {STATUS_TEXT[job.status] ?? job.status}
      </h2>
      <div class="progress-block">
        <label for="import-progress">Import progress</label>
        <progress
          id="import-progress"
          max={Math.max(1, p.total)}
          value={finished ? Math.max(1, p.total) : p.partsDone + p.partsFailed}
          aria-valuetext={`${percent}%: ${p.partsDone + p.partsFailed} of ${plural(p.total, 'part')} done, ${plural(p.records, 'record')} read`}
        />
        <p class="cell-sub" role="status" aria-live="polite">
          {finished
            ? `Import ${STATUS_TEXT[job.status]}: ${plural(p.records, 'record')} read.`
            : `${percent}%: ${p.partsDone + p.partsFailed} of ${plural(p.total, 'part')} done, ${plural(p.records, 'record')} read so far.`}
        </p>
      </div>
      {job.result ? (
        <dl class="import-summary">
          <dt>records read</dt>
          <dd data-summary="records">{job.result.records.toLocaleString('en-GB')}</dd>
          <dt>new measurements stored</dt>
          <dd data-summary="inserted">{job.result.inserted.toLocaleString('en-GB')}</dd>
          <dt>records rejected</dt>
          <dd data-summary="rejected">{job.result.rejected.toLocaleString('en-GB')}</dd>
          <dt>issues</dt>
          <dd data-summary="issues">
            {plural(errors, 'error')}, {plural(warnings, 'warning')}
            {omitted > 0 ? ` (and ${omitted.toLocaleString('en-GB')} more not listed)` : ''}
          </dd>
        </dl>
      ) : null}
      {job.createdAt ? <p class="cell-sub">Uploaded {formatDateTime(job.createdAt)}.</p> : null}
      {job.errors.length > 0 ? (
        <div class="state state-error" role="alert">
          <p>
            {plural(job.errors.length, 'part')} of the file could not be imported at all (the rest was): {job.errors.join('; ')}
          </p>
        </div>
      ) : null}
      {finished && job.result && job.result.rejected === 0 && errors === 0 && job.errors.length === 0 ? (
        <p class="state state-done">
          <span aria-hidden="true">✓ </span>Every record was read; no record was refused.
        </p>
      ) : null}
      {issues.length > 0 ? <IssueTable issues={issues} fileName={fileName} omitted={omitted} /> : null}
    </section>
  );
}

function IssueTable({ issues, fileName, omitted }: { issues: ImportIssue[]; fileName: string; omitted: number }) {
  return (
    <section class="error-report" aria-labelledby="errors-h">
      <h3 id="errors-h">Error report</h3>
      <div class="table-wrap">
        <table class="import-issues" data-issues={issues.length}>
          <caption>
            {plural(issues.length, 'issue')} in {fileName}
            {omitted > 0 ? ` (the first ones; ${omitted.toLocaleString('en-GB')} more were found)` : ''}. Errors refuse the record;
            warnings keep it.
          </caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Severity</th>
              <th scope="col">Problem</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {issues.map((issue) => {
              const line = issueLine(issue);
              return (
                <tr data-line={line ?? undefined}>
                  <th scope="row">{line !== null ? line : issue.location[0] ?? '—'}</th>
                  <td>
                    <span class={`sev sev-${issue.severity === 'error' ? 'warning' : 'advisory'}`}>
                      <span aria-hidden="true">{issue.severity === 'error' ? '✗ ' : 'ℹ '}</span>
                      {issue.severity}
                    </span>
                  </td>
                  <td>{ISSUE_KIND[issue.code] ?? issue.code}</td>
                  <td class="issue-reason">
                    {issue.diagnostics}
                    {issue.location.length > 1 ? <div class="cell-sub">at {issue.location.slice(1).join(' › ')}</div> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
