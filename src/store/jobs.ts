/**
 * A job queue in the database, the same code on PGlite and PostgreSQL. Any server instance's
 * worker claims the oldest runnable job with FOR UPDATE SKIP LOCKED (so two workers never get
 * the same job), holds a lease it renews while working, and a job whose lease ran out (its
 * worker died) becomes claimable again. Handlers make their effects idempotent or commit them
 * in the same transaction as the job's completion, so a retried job never doubles anything.
 */
import type { Queryable } from './db.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job<Payload = Record<string, unknown>> {
  id: string;
  kind: string;
  parentId: string | null;
  payload: Payload;
  status: JobStatus;
  progress: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  lockedBy: string | null;
  siteId: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const JOB_COLUMNS = `id, kind, parent_id AS "parentId", payload, status, progress, result, error, attempts, locked_by AS "lockedBy",
  site_id AS "siteId", created_by AS "createdBy", created_at AS "createdAt", started_at AS "startedAt",
  finished_at AS "finishedAt"`;

function normalise<P>(row: Job<P> & { createdAt: unknown; startedAt: unknown; finishedAt: unknown }): Job<P> {
  const iso = (value: unknown): string | null => (value === null || value === undefined ? null : new Date(value as string).toISOString());
  return { ...row, createdAt: iso(row.createdAt)!, startedAt: iso(row.startedAt), finishedAt: iso(row.finishedAt) };
}

export interface NewJob {
  kind: string;
  payload?: Record<string, unknown>;
  siteId?: string | null;
  createdBy?: string | null;
  maxAttempts?: number;
  /** A job that is one part of a larger one (an import split into chunks). */
  parentId?: string;
}

export async function enqueueJob(db: Queryable, job: NewJob): Promise<string> {
  const result = await db.query<{ id: string }>(
    `INSERT INTO job (kind, payload, site_id, created_by, max_attempts, parent_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [job.kind, JSON.stringify(job.payload ?? {}), job.siteId ?? null, job.createdBy ?? null, job.maxAttempts ?? 3, job.parentId ?? null],
  );
  return result.rows[0]!.id;
}

export async function getJob(db: Queryable, id: string): Promise<Job | undefined> {
  const result = await db.query<Job & { createdAt: unknown; startedAt: unknown; finishedAt: unknown }>(
    `SELECT ${JOB_COLUMNS} FROM job WHERE id = $1`,
    [id],
  );
  const row = result.rows[0];
  return row && normalise(row);
}

/** Claims the oldest runnable job of these kinds for `workerId`, or undefined when there is none. */
export async function claimJob(db: Queryable, workerId: string, kinds: readonly string[], leaseSeconds: number): Promise<Job | undefined> {
  const result = await db.query<Job & { createdAt: unknown; startedAt: unknown; finishedAt: unknown }>(
    `UPDATE job SET status = 'running', attempts = attempts + 1, locked_by = $1,
            lease_until = now() + make_interval(secs => $3), started_at = COALESCE(started_at, now())
      WHERE id = (
        SELECT id FROM job
         WHERE kind = ANY($2)
           AND (status = 'queued' OR (status = 'running' AND lease_until < now()))
           AND attempts < max_attempts
         ORDER BY created_at, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
      RETURNING ${JOB_COLUMNS}`,
    [workerId, kinds, leaseSeconds],
  );
  const row = result.rows[0];
  return row && normalise(row);
}

/** Renews the lease and records progress; false when the job is no longer ours (lease lost). */
export async function heartbeat(
  db: Queryable,
  id: string,
  workerId: string,
  leaseSeconds: number,
  progress?: Record<string, unknown>,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE job SET lease_until = now() + make_interval(secs => $3), progress = COALESCE($4, progress)
      WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
    [id, workerId, leaseSeconds, progress === undefined ? null : JSON.stringify(progress)],
  );
  return result.affectedRows === 1;
}

/** Marks the job done; false when another worker owns it now (then the caller must roll back its effects). */
export async function completeJob(db: Queryable, id: string, workerId: string, result: Record<string, unknown>): Promise<boolean> {
  const update = await db.query(
    `UPDATE job SET status = 'succeeded', result = $3, finished_at = now(), lease_until = NULL
      WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
    [id, workerId, JSON.stringify(result)],
  );
  return update.affectedRows === 1;
}

/** Records a failure. A permanent failure (bad data) is final; a transient one is retried while attempts remain. */
export async function failJob(db: Queryable, id: string, workerId: string, error: string, permanent: boolean): Promise<void> {
  await db.query(
    `UPDATE job SET status = CASE WHEN $4 OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
            error = $3, finished_at = CASE WHEN $4 OR attempts >= max_attempts THEN now() ELSE NULL END,
            lease_until = NULL, locked_by = CASE WHEN $4 OR attempts >= max_attempts THEN locked_by ELSE NULL END
      WHERE id = $1 AND locked_by = $2`,
    [id, workerId, error.slice(0, 4000), permanent],
  );
}

export async function putJobBlob(db: Queryable, jobId: string, part: number, data: Buffer): Promise<void> {
  await db.query('INSERT INTO job_blob (job_id, part, data) VALUES ($1, $2, $3)', [jobId, part, data]);
}

export async function getJobBlob(db: Queryable, jobId: string, part: number): Promise<Buffer | undefined> {
  const result = await db.query<{ data: Uint8Array }>('SELECT data FROM job_blob WHERE job_id = $1 AND part = $2', [jobId, part]);
  const data = result.rows[0]?.data;
  return data === undefined ? undefined : Buffer.from(data);
}

export async function childJobs(db: Queryable, parentId: string): Promise<Job[]> {
  const result = await db.query<Job & { createdAt: unknown; startedAt: unknown; finishedAt: unknown }>(
    `SELECT ${JOB_COLUMNS} FROM job WHERE parent_id = $1 ORDER BY created_at, id`,
    [parentId],
  );
  return result.rows.map(normalise);
}
