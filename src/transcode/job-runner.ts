// Runs queued jobs: `concurrency` workers lease jobs from the durable queue and hand each to the
// handler of its kind. Jobs left running by a crash are queued again at start; a graceful stop
// aborts running handlers and puts their jobs back in the queue.
import type { JobRecord, JobStore, NewJob } from '../store/job-store.js';

/** Thrown by a handler to say whether another attempt could help. */
export class JobFailure extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
}

export type JobHandler = (job: JobRecord, signal: AbortSignal) => Promise<void>;
/** Called once when a job has failed for good (no attempt left, or not worth retrying). */
export type GiveUpHandler = (job: JobRecord, error: Error) => void;

export interface RunnerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the rest of the code sees: enqueue a job (inside the caller's transaction) and wake a worker. */
export interface JobQueue {
  enqueue(job: NewJob): JobRecord;
}

/** Poll now and then even without a wake-up, in case a job was queued by another path. */
const IDLE_POLL_MS = 1000;

export class JobRunner implements JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly giveUps = new Map<string, GiveUpHandler>();
  private readonly running = new Map<number, AbortController>();
  private workers: Promise<void>[] = [];
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly jobs: JobStore,
    private readonly log: RunnerLog,
    private readonly concurrency = 1,
  ) {}

  register(kind: string, handler: JobHandler, onGiveUp?: GiveUpHandler): void {
    this.handlers.set(kind, handler);
    if (onGiveUp) this.giveUps.set(kind, onGiveUp);
  }

  enqueue(job: NewJob): JobRecord {
    const record = this.jobs.enqueue(job);
    // The caller's transaction commits before any worker runs: they only resume on a later tick.
    queueMicrotask(() => this.notify());
    return record;
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  start(): void {
    const requeued = this.jobs.requeueRunning();
    if (requeued) this.log.info({ requeued }, 'jobs interrupted by the last stop are queued again');
    this.stopping = false;
    this.workers = Array.from({ length: Math.max(1, this.concurrency) }, (_, i) => this.work(i));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort();
    this.notify();
    await Promise.all(this.workers);
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, IDLE_POLL_MS);
      timer.unref();
      const previous = this.wake;
      this.wake = () => {
        clearTimeout(timer);
        previous?.();
        resolve();
      };
    });
  }

  private async work(worker: number): Promise<void> {
    while (!this.stopping) {
      const job = this.jobs.lease([...this.handlers.keys()]);
      if (!job) {
        await this.idle();
        continue;
      }
      await this.runOne(job, worker);
    }
  }

  private async runOne(job: JobRecord, worker: number): Promise<void> {
    const handler = this.handlers.get(job.kind)!;
    const controller = new AbortController();
    this.running.set(job.id, controller);
    const started = Date.now();
    try {
      await handler(job, controller.signal);
      this.jobs.complete(job.id);
      this.log.info({ job: job.id, kind: job.kind, uid: job.videoUid, ms: Date.now() - started, worker }, 'job done');
    } catch (err) {
      if (controller.signal.aborted) {
        // Stopped on purpose: the job goes back to the queue as if it had never started.
        this.jobs.requeue(job.id);
      } else {
        const retry = err instanceof JobFailure ? err.retry : true;
        const state = this.jobs.fail(job.id, (err as Error).message, retry);
        this.log.warn({ job: job.id, kind: job.kind, uid: job.videoUid, err, state }, 'job failed');
        if (state === 'failed') this.giveUps.get(job.kind)?.(job, err as Error);
      }
    } finally {
      this.running.delete(job.id);
    }
  }
}
