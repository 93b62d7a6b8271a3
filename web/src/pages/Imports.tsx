/**
 * Imports: upload a file (FHIR R4 Bundle, FHIR Bulk NDJSON, CSV), follow the import job's
 * progress, read its error report. Uses POST /api/imports and GET /api/jobs/{jobId}; without
 * them the page says the feature is not available on this server.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useApp } from '../context.ts';
import { NotAvailable } from '../components/States.tsx';
import type { ApiFailure } from '../api.ts';
import { formatDateTime, plural } from '../format.ts';

interface JobView {
  id: string;
  kind?: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | string;
  progress?: Record<string, unknown>;
  result?: Record<string, unknown> | null;
  error?: string | null;
  createdAt?: string;
  finishedAt?: string | null;
}

/** One problem with one record (ImportIssue of src/sources/import-format.ts). */
interface ImportIssue {
  severity?: 'error' | 'warning' | string;
  code?: string;
  diagnostics?: string;
  message?: string;
  location?: string[];
  line?: number;
  file?: string;
}

const FORMATS = [
  { value: '', label: 'Detect from the file' },
  { value: 'fhir', label: 'FHIR R4 (Bundle JSON or Bulk Data NDJSON)' },
  { value: 'csv', label: 'Measurement CSV (one measurement per row)' },
];

/** Summary numbers shown when the job reports them (ImportSummary of src/sources/ingest/run.ts). */
const SUMMARY_FIELDS: Array<[string, string]> = [
  ['records', 'records read'],
  ['measurements', 'measurements'],
  ['inserted', 'new measurements stored'],
  ['duplicates', 'already stored (duplicates)'],
  ['patients', 'patients'],
  ['rejected', 'records rejected'],
  ['errors', 'errors'],
  ['warnings', 'warnings'],
];

function jobIdOf(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  if (typeof b.jobId === 'string') return b.jobId;
  if (b.job && typeof b.job === 'object' && typeof (b.job as Record<string, unknown>).id === 'string') return (b.job as { id: string }).id;
  if (typeof b.id === 'string') return b.id;
  return null;
}

function numberField(record: Record<string, unknown> | null | undefined, ...names: string[]): number | null {
  for (const name of names) {
    const v = record?.[name];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

function issuesOf(job: JobView): ImportIssue[] {
  const source = (job.result?.issues ?? job.result?.errors ?? job.progress?.issues) as unknown;
  if (!Array.isArray(source)) return [];
  return source.map((e) => (typeof e === 'string' ? { message: e } : (e as ImportIssue)));
}

export function Imports() {
  const { api, sites, site } = useApp();
  const missing = api.missing('POST /api/imports', 'GET /api/jobs/{jobId}');
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState('');
  const [targetSite, setTargetSite] = useState(site ?? sites[0]?.id ?? '');
  const [upload, setUpload] = useState<{ loaded: number; total: number } | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [job, setJob] = useState<JobView | null>(null);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const poll = async (id: string) => {
    const result = await api.get<JobView | { job: JobView }>(`/api/jobs/${encodeURIComponent(id)}`);
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    const view = 'job' in result.data ? result.data.job : result.data;
    setJob(view);
    if (view.status === 'queued' || view.status === 'running') timer.current = window.setTimeout(() => void poll(id), 1000);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setFailure(null);
    setJob(null);
    setUpload({ loaded: 0, total: file.size });
    const path = `/api/imports?${new URLSearchParams({ site: targetSite, filename: file.name, ...(format ? { format } : {}) }).toString()}`;
    const result = await api.upload<unknown>(path, file, file.type || 'application/octet-stream', (loaded, total) => setUpload({ loaded, total }));
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    setUpload({ loaded: file.size, total: file.size });
    const id = jobIdOf(result.data);
    if (!id) {
      setFailure({ kind: 'server', status: result.status, message: 'The server accepted the file but named no import job to follow.' });
      return;
    }
    void poll(id);
  };

  if (missing.length > 0) {
    return (
      <section>
        <h1 tabIndex={-1}>Imports</h1>
        <NotAvailable feature="File import" endpoints={missing} />
      </section>
    );
  }

  // Progress in bytes of input when the job reports them (ImportProgress), else in records.
  const done = numberField(job?.progress, 'bytesRead', 'processed', 'done');
  const total = numberField(job?.progress, 'totalBytes', 'total', 'expected');
  const records = numberField(job?.progress, 'records');
  const issues = job ? issuesOf(job) : [];
  const omitted = numberField(job?.result, 'issuesOmitted') ?? 0;
  return (
    <section class="imports">
      <h1 tabIndex={-1}>Imports</h1>
      <form class="import-form" onSubmit={submit}>
        <label>
          File
          <input type="file" accept=".json,.ndjson,.csv,.txt,application/json,text/csv" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
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
          Site
          <select value={targetSite} onChange={(e) => setTargetSite(e.currentTarget.value)}>
            {sites.map((s) => (
              <option value={s.id}>{s.name}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!file || (job !== null && (job.status === 'queued' || job.status === 'running'))}>
          Upload and import
        </button>
      </form>

      {upload ? (
        <div class="progress-block">
          <label>
            Upload: {Math.round((100 * upload.loaded) / Math.max(1, upload.total))}%
            <progress max={upload.total} value={upload.loaded} />
          </label>
        </div>
      ) : null}

      {job ? (
        <section class="job" aria-live="polite" aria-labelledby="job-h">
          <h2 id="job-h">
            Import job {job.id}: {job.status}
          </h2>
          <label>
            Progress
            {done !== null && total !== null && total > 0 ? `: ${Math.round((100 * done) / total)}%` : ''}
            {records !== null ? ` (${plural(records, 'record')} read)` : ''}
            {total !== null && done !== null ? <progress max={total} value={done} /> : job.status === 'succeeded' || job.status === 'failed' ? <progress max={1} value={1} /> : <progress />}
          </label>
          {job.result ? (
            <dl class="import-summary">
              {SUMMARY_FIELDS.filter(([key]) => typeof job.result?.[key] === 'number').map(([key, label]) => (
                <>
                  <dt>{label}</dt>
                  <dd>{String(job.result?.[key])}</dd>
                </>
              ))}
            </dl>
          ) : null}
          {job.finishedAt ? <p>Finished {formatDateTime(job.finishedAt)}.</p> : null}
          {job.error ? (
            <p class="state state-error" role="alert">
              {job.error}
            </p>
          ) : null}
          {issues.length > 0 ? (
            <section class="error-report" aria-labelledby="errors-h">
              <h3 id="errors-h">
                Error report: {plural(issues.length, 'issue')}
                {omitted > 0 ? ` (and ${omitted} more not listed)` : ''}
              </h3>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Severity</th>
                      <th scope="col">File</th>
                      <th scope="col">Where</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody>
                    {issues.map((e) => (
                      <tr>
                        <td>
                          <span class={`sev sev-${e.severity === 'error' ? 'warning' : 'advisory'}`}>{e.severity ?? 'error'}</span>
                        </td>
                        <td>{e.file ?? '—'}</td>
                        <td>{e.location?.join(' › ') ?? (e.line !== undefined ? `line ${e.line}` : '—')}</td>
                        <td>{e.code ?? '—'}</td>
                        <td>{e.diagnostics ?? e.message ?? '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ) : job.status === 'succeeded' ? (
            <p>No record was refused.</p>
          ) : null}
          {job.result ? (
            <details>
              <summary>Full job result</summary>
              <pre>{JSON.stringify(job.result, null, 2)}</pre>
            </details>
          ) : null}
        </section>
      ) : null}
      {failure ? (
        <p class="state state-error" role="alert">
          {failure.kind === 'unavailable' ? `This server does not offer ${failure.endpoint}.` : failure.message}
        </p>
      ) : null}
    </section>
  );
}
