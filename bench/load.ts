// The load generator of `npm run bench:api`, run as a child process by bench/api.ts: the client
// then has its own event loop (and, on a 2-core machine, its own core) instead of competing with
// the servers it measures. It takes jobs over the IPC channel and answers each with its numbers.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

/** Many connections for a while: throughput and latency under load. */
export interface CannonJob {
  kind: 'cannon';
  id: number;
  url: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

/** One request at a time: the latency a single client sees, without queueing behind others. */
export interface SequentialJob {
  kind: 'sequential';
  id: number;
  url: string;
  warmupRequests: number;
  requests: number;
}

export type LoadJob = CannonJob | SequentialJob;

export interface LoadStats {
  requestsPerSecond: number;
  /** Milliseconds. */
  p50: number;
  /** Milliseconds. */
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

export type LoadReply = { id: number; ok: true; stats: LoadStats } | { id: number; ok: false; error: string };

async function runCannon(job: CannonJob): Promise<LoadStats> {
  const options = { url: job.url, connections: job.connections };
  // A separate short run first, thrown away: JIT, connection set-up and SQLite's page cache
  // would otherwise weigh on the first second of the measured run.
  await autocannon({ ...options, duration: job.warmupSeconds });
  const result = await autocannon({ ...options, duration: job.durationSeconds });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Nearest-rank percentile of ascending samples. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]!;
}

async function timeOne(url: string): Promise<{ ms: number; ok: boolean }> {
  const start = performance.now();
  const res = await fetch(url);
  // The whole body counts: a list is only useful to its caller once it has all of it.
  await res.arrayBuffer();
  return { ms: performance.now() - start, ok: res.ok };
}

async function runSequential(job: SequentialJob): Promise<LoadStats> {
  for (let i = 0; i < job.warmupRequests; i++) await timeOne(job.url);
  const samples: number[] = [];
  let non2xx = 0;
  const start = performance.now();
  for (let i = 0; i < job.requests; i++) {
    const { ms, ok } = await timeOne(job.url);
    samples.push(ms);
    if (!ok) non2xx++;
  }
  const seconds = (performance.now() - start) / 1000;
  samples.sort((a, b) => a - b);
  return {
    requestsPerSecond: job.requests / seconds,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    requests: job.requests,
    non2xx,
    errors: 0,
  };
}

async function handle(job: LoadJob): Promise<LoadReply> {
  try {
    const stats = job.kind === 'cannon' ? await runCannon(job) : await runSequential(job);
    return { id: job.id, ok: true, stats };
  } catch (err) {
    return { id: job.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

// Only act as a worker when forked (process.send exists); importing this file for its types or
// running it by hand does nothing.
const send = process.send?.bind(process);
if (send) {
  process.on('message', (job: LoadJob) => {
    void handle(job).then((reply) => send(reply));
  });
  // The parent going away (normally or not) ends the worker.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}
