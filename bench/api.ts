// `npm run bench:api`: Ministream's JSON API next to a bare Fastify 5 serving the very same JSON.
// The bare server has no schemas, hooks, CORS, auth or SQLite, so the ratio Ministream/bare says
// what all of that costs. The load comes from a child process (bench/load.ts). It is a report,
// not a test: missing an aim does not change the exit code (only a bench that cannot run exits 1).
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { awaitChild } from './child.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULTS } from '../src/config.js';
import { startMinistream, type RunningMinistream } from '../src/server.js';
import type { CannonJob, LoadJob, LoadReply, LoadStats, SequentialJob } from './load.js';

const ACCOUNT = 'bench-account';
const VIDEO_COUNT = 1000;
const CONNECTIONS = 10;
const WARMUP_SECONDS = 1;
const DURATION_SECONDS = 5;
const SEQUENTIAL_WARMUP = 5;
const SEQUENTIAL_REQUESTS = 100;
const GET_RATIO_AIM = 0.5;
const LIST_P50_AIM_MS = 25;

type JobSpec = Omit<CannonJob, 'id'> | Omit<SequentialJob, 'id'>;
type WorkerMessage = LoadReply | { ready: true };

/** The child process running bench/load.ts, one job at a time. */
class LoadWorker {
  private nextId = 1;

  private constructor(private readonly child: ChildProcess) {}

  /** Forks the worker and waits until it listens for jobs (messages sent before that are lost). */
  static start(): Promise<LoadWorker> {
    const file = fileURLToPath(new URL('./load.ts', import.meta.url));
    // The worker is TypeScript too: load tsx into it, resolved from here rather than from the cwd.
    const child = fork(file, [], { execArgv: ['--import', import.meta.resolve('tsx')] });
    return awaitChild(child, 'load worker', 20_000, (msg: WorkerMessage) => ('ready' in msg ? new LoadWorker(child) : undefined));
  }

  run(spec: JobSpec): Promise<LoadStats> {
    const job = { ...spec, id: this.nextId++ } as LoadJob;
    const child = this.child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`load job ${job.id} (${job.url}) timed out`)), timeoutMs(job));
      const settle = (err: Error | undefined, stats?: LoadStats) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve(stats!);
      };
      const onMessage = (msg: WorkerMessage) => {
        if ('ready' in msg || msg.id !== job.id) return;
        if (msg.ok) settle(undefined, msg.stats);
        else settle(new Error(`load job failed: ${msg.error}`));
      };
      const onExit = (code: number | null) => settle(new Error(`load worker exited during a job (code ${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(job);
    });
  }

  stop(): void {
    // Disconnecting ends the worker (it exits on 'disconnect'); kill in case it is stuck.
    if (this.child.connected) this.child.disconnect();
    setTimeout(() => this.child.kill(), 2_000).unref();
  }
}

function timeoutMs(job: LoadJob): number {
  const slack = 20_000;
  return job.kind === 'cannon' ? (job.warmupSeconds + job.durationSeconds) * 1000 + slack : 60_000 + slack;
}

/** 1000 ready videos, written straight into Ministream's SQLite store (no HTTP, no ffmpeg). */
function seedVideos(server: RunningMinistream): string[] {
  const { videos } = server.app.ministream;
  const uids: string[] = [];
  for (let i = 1; i <= VIDEO_COUNT; i++) {
    const uploaded = new Date().toISOString();
    const video = videos.create({
      accountId: ACCOUNT,
      state: 'ready',
      pctComplete: 100,
      duration: 12.5,
      inputWidth: 1280,
      inputHeight: 720,
      size: 1234567,
      meta: { name: `video ${i}` },
      readyToStream: true,
      readyToStreamAt: uploaded,
      uploaded,
    });
    uids.push(video.uid);
  }
  return uids;
}

async function fetchJson(url: string): Promise<{ body: unknown; bytes: number }> {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 200)}`);
  return { body: JSON.parse(text) as unknown, bytes: Buffer.byteLength(text) };
}

/** The baseline: plain Fastify returning the parsed Ministream bodies (JSON.stringify, no schema). */
async function startBare(single: unknown, list: unknown): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.get('/single', async () => single);
  app.get('/list', async () => list);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

interface Row {
  name: string;
  stats: LoadStats;
}

const cannon = (url: string): JobSpec => ({
  kind: 'cannon',
  url,
  connections: CONNECTIONS,
  warmupSeconds: WARMUP_SECONDS,
  durationSeconds: DURATION_SECONDS,
});

const sequential = (url: string): JobSpec => ({
  kind: 'sequential',
  url,
  warmupRequests: SEQUENTIAL_WARMUP,
  requests: SEQUENTIAL_REQUESTS,
});

async function runAll(worker: LoadWorker, targets: { name: string; spec: JobSpec }[]): Promise<Row[]> {
  const rows: Row[] = [];
  // One after the other: each target has both cores (server + load generator) to itself.
  for (const t of targets) {
    process.stdout.write(`  ${t.name} ...\n`);
    rows.push({ name: t.name, stats: await worker.run(t.spec) });
  }
  return rows;
}

/** `digits`: autocannon records whole milliseconds, the sequential timer has sub-ms precision. */
function printTable(title: string, rows: Row[], digits: number): void {
  const nameWidth = Math.max(...rows.map((r) => r.name.length), 6);
  const head = ['target'.padEnd(nameWidth), 'req/s'.padStart(9), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'requests'.padStart(9), 'non-2xx'.padStart(8), 'errors'.padStart(7)];
  console.log(`\n${title}`);
  console.log(head.join('  '));
  for (const { name, stats: s } of rows) {
    console.log(
      [
        name.padEnd(nameWidth),
        s.requestsPerSecond.toFixed(0).padStart(9),
        s.p50.toFixed(digits).padStart(8),
        s.p99.toFixed(digits).padStart(8),
        String(s.requests).padStart(9),
        String(s.non2xx).padStart(8),
        String(s.errors).padStart(7),
      ].join('  '),
    );
  }
}

function warnOnFailures(rows: Row[]): void {
  for (const { name, stats } of rows) {
    if (stats.non2xx > 0 || stats.errors > 0) {
      console.log(`WARNING: ${name} had ${stats.non2xx} non-2xx answers and ${stats.errors} errors; its numbers are not comparable`);
    }
  }
}

async function bench(ministream: RunningMinistream, worker: LoadWorker): Promise<void> {
  const seedStart = performance.now();
  const uids = seedVideos(ministream);
  const seedMs = performance.now() - seedStart;
  const base = `${ministream.url}/client/v4/accounts/${ACCOUNT}/stream`;
  const getUrl = `${base}/${uids[Math.floor(uids.length / 2)]}`;
  const single = await fetchJson(getUrl);
  const list = await fetchJson(base);
  const listed = (list.body as { result?: unknown[] }).result?.length;
  if (listed !== VIDEO_COUNT) throw new Error(`the list returned ${listed} videos, expected ${VIDEO_COUNT}`);

  const bare = await startBare(single.body, list.body);
  try {
    console.log(`Ministream API bench: node ${process.version}, ${cpus().length} CPUs, load generator in a child process`);
    console.log(`seeded ${VIDEO_COUNT} videos in ${seedMs.toFixed(0)} ms; bodies: GET ${single.bytes} B, list ${(list.bytes / 1024).toFixed(0)} KiB`);
    console.log(`autocannon: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up then ${DURATION_SECONDS} s per target`);
    const loaded = await runAll(worker, [
      { name: 'Ministream GET /stream/:uid', spec: cannon(getUrl) },
      { name: 'bare Fastify GET (same JSON)', spec: cannon(`${bare.url}/single`) },
      { name: 'Ministream GET /stream (1000)', spec: cannon(base) },
      { name: 'bare Fastify list (same JSON)', spec: cannon(`${bare.url}/list`) },
    ]);
    const serial = await runAll(worker, [
      { name: 'Ministream GET /stream (1000)', spec: sequential(base) },
      { name: 'bare Fastify list (same JSON)', spec: sequential(`${bare.url}/list`) },
    ]);
    printTable(`Under load (${CONNECTIONS} connections; latency in whole ms)`, loaded, 0);
    printTable(`Sequential (${SEQUENTIAL_REQUESTS} requests one after the other, whole body read)`, serial, 2);
    warnOnFailures([...loaded, ...serial]);

    const [mGet, bGet, mList, bList] = loaded.map((r) => r.stats) as [LoadStats, LoadStats, LoadStats, LoadStats];
    const listP50 = serial[0]!.stats.p50;
    console.log('');
    console.log(`GET ratio: ${(mGet.requestsPerSecond / bGet.requestsPerSecond).toFixed(2)} (aim >= ${GET_RATIO_AIM})`);
    console.log(`list ratio: ${(mList.requestsPerSecond / bList.requestsPerSecond).toFixed(2)}`);
    console.log(`list p50: ${listP50.toFixed(1)} ms (aim < ${LIST_P50_AIM_MS} ms)`);
  } finally {
    await bare.app.close();
  }
}

async function main(): Promise<void> {
  // Started side by side; if either fails, the other is stopped before giving up.
  const [workerResult, ministreamResult] = await Promise.allSettled([
    LoadWorker.start(),
    startMinistream({ ...DEFAULTS, port: 0, inMemory: true, logLevel: 'silent' }),
  ]);
  if (workerResult.status === 'rejected' || ministreamResult.status === 'rejected') {
    if (workerResult.status === 'fulfilled') workerResult.value.stop();
    if (ministreamResult.status === 'fulfilled') await ministreamResult.value.close();
    throw workerResult.status === 'rejected' ? workerResult.reason : (ministreamResult as PromiseRejectedResult).reason;
  }
  const worker = workerResult.value;
  const ministream = ministreamResult.value;
  try {
    await bench(ministream, worker);
  } finally {
    worker.stop();
    await ministream.close();
  }
}

main().catch((err: unknown) => {
  console.error('bench:api failed:', err);
  process.exitCode = 1;
});
