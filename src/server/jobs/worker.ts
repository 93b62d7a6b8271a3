/**
 * The job worker every server instance runs (on the embedded database too: same code, one
 * process). It polls the job table, runs one job at a time per slot, renews the lease while
 * the handler works, and on shutdown finishes the job in hand before returning.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../store/db.ts';
import { type Job, claimJob, completeJob, failJob, heartbeat } from '../../store/jobs.ts';

/** A failure that retrying cannot fix (bad data, missing upload): the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface JobContext {
  db: Database;
  workerId: string;
  /** Reports progress and renews the lease; throws when the job was taken over by another worker. */
  progress(progress: Record<string, unknown>): Promise<void>;
}

export type JobHandler = (job: Job, context: JobContext) => Promise<Record<string, unknown>>;

export interface WorkerOptions {
  handlers: Record<string, JobHandler>;
  /** Idle polling interval. */
  pollMs?: number;
  leaseSeconds?: number;
  /** Jobs run at the same time by this worker. */
  concurrency?: number;
  log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
  workerId?: string;
  /** Called after each job, for tests and metrics. */
  onJobDone?: (job: Job, outcome: 'succeeded' | 'failed') => void;
}

export class JobWorker {
  readonly workerId: string;
  readonly #db: Database;
  readonly #options: Required<Omit<WorkerOptions, 'log' | 'onJobDone' | 'workerId'>> & Pick<WorkerOptions, 'log' | 'onJobDone'>;
  #running = false;
  #loops: Promise<void>[] = [];
  readonly #wakers = new Set<() => void>();

  constructor(db: Database, options: WorkerOptions) {
    this.#db = db;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#options = { pollMs: 500, leaseSeconds: 60, concurrency: 1, ...options };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loops = Array.from({ length: this.#options.concurrency }, () => this.#loop());
  }

  /** Wakes idle loops now (a job was just enqueued by this instance). */
  poke(): void {
    for (const wake of this.#wakers) wake();
  }

  /** Stops claiming new jobs and waits for the ones in hand to finish. */
  async stop(): Promise<void> {
    this.#running = false;
    this.poke();
    await Promise.all(this.#loops);
  }

  async #loop(): Promise<void> {
    const kinds = Object.keys(this.#options.handlers);
    while (this.#running) {
      let job: Job | undefined;
      try {
        job = await claimJob(this.#db, this.workerId, kinds, this.#options.leaseSeconds);
      } catch (error) {
        this.#options.log?.error({ err: error }, 'job worker: could not claim a job');
      }
      if (job) await this.#run(job);
      else await this.#sleep(this.#options.pollMs);
    }
  }

  async #run(job: Job): Promise<void> {
    const handler = this.#options.handlers[job.kind]!;
    const { leaseSeconds } = this.#options;
    const context: JobContext = {
      db: this.#db,
      workerId: this.workerId,
      progress: async (progress) => {
        if (!(await heartbeat(this.#db, job.id, this.workerId, leaseSeconds, progress))) {
          throw new Error(`job ${job.id} was taken over by another worker (lease expired)`);
        }
      },
    };
    // Keep the lease alive while a long step runs between progress reports.
    const timer = setInterval(() => void heartbeat(this.#db, job.id, this.workerId, leaseSeconds).catch(() => {}), (leaseSeconds * 1000) / 3);
    try {
      const result = await handler(job, context);
      await completeJob(this.#db, job.id, this.workerId, result);
      this.#options.onJobDone?.(job, 'succeeded');
    } catch (error) {
      const permanent = error instanceof PermanentJobError;
      const message = error instanceof Error ? error.message : String(error);
      this.#options.log?.warn({ jobId: job.id, kind: job.kind, err: error }, 'job failed');
      await failJob(this.#db, job.id, this.workerId, message, permanent).catch(() => {});
      this.#options.onJobDone?.(job, 'failed');
    } finally {
      clearInterval(timer);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
