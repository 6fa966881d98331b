// `npm run bench:upload`: one large tus upload, Ministream next to a bare @tus/server +
// @tus/file-store on node:http (bench/upload-bare.ts). Each server runs in its own child process
// (bench/upload-server.ts for Ministream) and samples its own RSS; the client, tus-js-client as
// apps use it, runs here. The targets alternate round by round, so that a slow spell of the
// machine does not land on one target only. It is a report, not a test: missing an aim does not
// change the exit code (only a bench that cannot run exits 1).
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitChild, stopChild } from './child.js';
import { randomFillSync } from 'node:crypto';
import { promisify } from 'node:util';
import * as tus from 'tus-js-client';
import { inspectMedia } from '../src/transcode/inspect.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { BARE_TUS_PATH, type ChildMessage, type Measurement, type ParentMessage } from './upload-child.js';
import { positiveIntFromEnv } from './env.js';

const MiB = 1024 * 1024;
/** Cloudflare's recommended chunk size; a multiple of 256 KiB, so Ministream's chunk rules accept it. */
const CHUNK_SIZE = 50 * MiB;
const ACCOUNT = 'bench-account';
const THROUGHPUT_RATIO_AIM = 0.9;
const MEMORY_GROWTH_AIM_MB = 64;
/** The warm-up upload (not measured): one full chunk and a short last one. */
const WARMUP_BYTES = 64 * MiB;
const UPLOAD_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 30_000;
/** How long Ministream may take to encode an upload (a 2 s 320x240 clip) before the next round. */
const ENCODE_WAIT_MS = 60_000;
/** A 1-minute load average above this before the first upload means other work is running. */
const BUSY_LOAD = 1;

const run = promisify(execFile);


// ---------------------------------------------------------------------------------------------
// The server processes

type Reply<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

/** One server child process (bench/upload-server.ts or bench/upload-bare.ts). */
class ServerProcess {
  private nextId = 1;
  private exited = false;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  /** Forks the server and waits for its port. */
  static start(name: string, file: string): Promise<ServerProcess> {
    const path = fileURLToPath(new URL(file, import.meta.url));
    // TypeScript too: tsx is resolved from here rather than from the cwd. --expose-gc lets the
    // server collect garbage before each baseline RSS reading.
    const execArgv = ['--import', import.meta.resolve('tsx'), '--expose-gc'];
    // BENCH_UPLOAD_PROFILE=<folder>: each server writes V8 CPU profiles into <folder>/<server> when
    // it exits (one per thread: the largest is the main thread, a small one is tsx's loader).
    const profileDir = process.env.BENCH_UPLOAD_PROFILE;
    if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(profileDir, name.replace(/\W+/g, '-'))}`);
    // BENCH_UPLOAD_NODE_FLAGS: more Node flags for both servers, e.g. "--trace-gc".
    execArgv.push(...(process.env.BENCH_UPLOAD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean));
    const child = fork(path, [], { execArgv });
    return awaitChild(child, name, START_TIMEOUT_MS, (msg: ChildMessage) => {
      if (msg.type === 'failed') return new Error(`${name} failed to start: ${msg.error}`);
      return msg.type === 'ready' ? new ServerProcess(name, msg.port, child) : undefined;
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private request<T extends ChildMessage['type']>(type: ParentMessage['type'], replyType: T): Promise<Reply<T>> {
    const id = this.nextId++;
    const child = this.child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`${this.name} did not answer ${type} within 10 s`)), 10_000);
      const settle = (err: Error | undefined, reply?: Reply<T>) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve(reply!);
      };
      const onMessage = (msg: ChildMessage) => {
        if (msg.type === replyType && 'id' in msg && msg.id === id) settle(undefined, msg as Reply<T>);
      };
      const onExit = (code: number | null) => settle(new Error(`${this.name} exited (code ${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type, id } as ParentMessage);
    });
  }

  /** Collects garbage, reads the baseline RSS and starts sampling every 100 ms. */
  startMeasuring(): Promise<Reply<'measure-started'>> {
    return this.request('measure-start', 'measure-started');
  }

  stopMeasuring(): Promise<Reply<'measure'>> {
    return this.request('measure-stop', 'measure');
  }

  /** Closing the IPC channel ends the server (it closes and cleans up first); kill if it hangs. */
  stop(): Promise<void> {
    return stopChild(this.child, this.exited);
  }
}

// ---------------------------------------------------------------------------------------------
// The upload file

/**
 * A real, tiny MP4 (moov atom first: -movflags +faststart), padded with random bytes to `bytes`.
 * ffprobe reads the moov atom and ignores the padding, so Ministream's completion step is quick.
 */
async function makeVideoFile(dir: string, bytes: number): Promise<string> {
  const { ffmpeg } = resolveMediaTools();
  const seed = join(dir, 'seed.mp4');
  await run(ffmpeg.path, [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
    seed,
  ]);
  const head = readFileSync(seed);
  if (head.length > bytes) throw new Error(`the seed video (${head.length} B) is larger than the upload size`);
  const file = join(dir, 'upload.mp4');
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head);
    const block = Buffer.allocUnsafe(8 * MiB);
    for (let left = bytes - head.length; left > 0; ) {
      const n = Math.min(left, block.length);
      randomFillSync(block, 0, n);
      writeSync(fd, block, 0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  rmSync(seed);
  return file;
}

// ---------------------------------------------------------------------------------------------
// The client

interface Target {
  name: string;
  server: ServerProcess;
  endpoint: string;
  /**
   * After an upload, outside the timed part: waits until the server is done with it (Ministream
   * encodes it), then removes it, so that the next round starts on a quiet machine and the disk
   * holds one upload at a time. Returns a problem worth a warning, if any.
   */
  finish(uploadUrl: string): Promise<string | undefined>;
}

interface UploadResult {
  /** From start() to onSuccess. */
  ms: number;
  url: string;
  /** Each request's round trip (POST, then the PATCHes). */
  requests: { method: string; ms: number }[];
}

/** tus-js-client, the same for both targets: 50 MiB chunks, no retries, the file read from disk. */
function upload(endpoint: string, file: string, bytes: number): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const source = createReadStream(file, { start: 0, end: bytes - 1 });
    const started = performance.now();
    const requests: UploadResult['requests'] = [];
    let sent = 0;
    const timer = setTimeout(() => {
      void up.abort(true).catch(() => undefined);
      reject(new Error(`upload to ${endpoint} did not finish within ${UPLOAD_TIMEOUT_MS / 1000} s`));
    }, UPLOAD_TIMEOUT_MS);
    const up: tus.Upload = new tus.Upload(source, {
      endpoint,
      chunkSize: CHUNK_SIZE,
      retryDelays: [],
      storeFingerprintForResuming: false,
      metadata: { name: 'bench-upload.mp4', filetype: 'video/mp4' },
      onBeforeRequest: () => {
        sent = performance.now();
      },
      onAfterResponse: (req) => {
        requests.push({ method: req.getMethod(), ms: performance.now() - sent });
      },
      onSuccess: () => {
        const ms = performance.now() - started;
        clearTimeout(timer);
        source.destroy();
        resolve({ ms, url: up.url!, requests });
      },
      onError: (err) => {
        clearTimeout(timer);
        source.destroy();
        reject(err);
      },
    });
    up.start();
  });
}

async function expectOk(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  await res.arrayBuffer();
}

function bareTarget(server: ServerProcess): Target {
  return {
    name: 'bare @tus/server',
    server,
    endpoint: `${server.url}${BARE_TUS_PATH}`,
    // tus termination: @tus/file-store deletes the file and its record.
    finish: async (url) => {
      await expectOk(await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } }), `DELETE ${url}`);
      return undefined;
    },
  };
}

interface VideoStatus {
  state?: string;
  errorReasonCode?: string;
  errorReasonText?: string;
}

/** States in which Ministream still works on an uploaded video. */
const BUSY_STATES = new Set(['pendingupload', 'queued', 'inprogress']);

function ministreamTarget(server: ServerProcess): Target {
  const base = `${server.url}/client/v4/accounts/${ACCOUNT}/stream`;
  const uidOf = (url: string) => new URL(url).pathname.split('/').pop()!;
  return {
    name: 'ministream',
    server,
    endpoint: base,
    finish: async (url) => {
      const uid = uidOf(url);
      // The last PATCH is answered once the video is queued; its encode job runs after that.
      const deadline = Date.now() + ENCODE_WAIT_MS;
      let status: VideoStatus | undefined;
      for (;;) {
        const res = await fetch(`${base}/${uid}`);
        if (!res.ok) throw new Error(`GET video ${uid}: ${res.status} ${(await res.text()).slice(0, 200)}`);
        status = ((await res.json()) as { result?: { status?: VideoStatus } }).result?.status;
        if (!BUSY_STATES.has(status?.state ?? '') || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The video API's delete: the row and the video's folder go.
      await expectOk(await fetch(`${base}/${uid}`, { method: 'DELETE' }), `DELETE video ${uid}`);
      if (status?.state === 'ready') return undefined;
      const why = status?.errorReasonCode ? ` (${status.errorReasonCode}: ${status.errorReasonText})` : '';
      return BUSY_STATES.has(status?.state ?? '')
        ? `the video was still ${status?.state} ${ENCODE_WAIT_MS / 1000} s after its upload; deleted anyway`
        : `the video ended in state ${status?.state}${why}, not ready`;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The rounds and the report

interface Round {
  mibPerSecond: number;
  /** Peak RSS minus the RSS just before the upload, in MiB. */
  rssGrowthMb: number;
  server: Measurement;
  /** CPU time of this process (the client) during the upload. */
  clientCpuMs: number;
  /** Round trip of the last PATCH: for Ministream it includes the completion step (ffprobe, SQLite). */
  lastPatchMs: number;
}

async function measure(target: Target, file: string, bytes: number): Promise<Round> {
  await target.server.startMeasuring();
  const clientCpu = process.cpuUsage();
  let result: UploadResult;
  let server: Measurement;
  try {
    result = await upload(target.endpoint, file, bytes);
  } finally {
    // Stop sampling even when the upload failed.
    server = await target.server.stopMeasuring();
  }
  const { user, system } = process.cpuUsage(clientCpu);
  if (process.env.BENCH_UPLOAD_DETAIL) {
    console.log(`    ${target.name}: ${result.ms.toFixed(0)} ms: ${result.requests.map((r) => `${r.method} ${r.ms.toFixed(0)}`).join(', ')}`);
  }
  const problem = await target.finish(result.url);
  if (problem) console.log(`WARNING: ${target.name}: ${problem}`);
  return {
    mibPerSecond: bytes / MiB / (result.ms / 1000),
    rssGrowthMb: (server.peakRss - server.baselineRss) / MiB,
    server,
    clientCpuMs: (user + system) / 1000,
    lastPatchMs: result.requests.filter((r) => r.method === 'PATCH').at(-1)?.ms ?? Number.NaN,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Row {
  name: string;
  rounds: Round[];
}

function printRows(head: [string, number][], rows: Row[], cells: (rounds: Round[]) => string[]): void {
  const nameWidth = Math.max(...rows.map((r) => r.name.length), 6);
  // Negative widths pad on the right (text columns), positive ones on the left (numbers).
  const pad = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));
  console.log(['target'.padEnd(nameWidth), ...head.map(([h, w]) => pad(h, w))].join('  ').trimEnd());
  for (const { name, rounds } of rows) {
    console.log([name.padEnd(nameWidth), ...cells(rounds).map((c, i) => pad(c, head[i]![1]))].join('  ').trimEnd());
  }
}

function printTables(rows: Row[], mib: number): void {
  const each = (rounds: Round[], f: (r: Round) => number, digits: number) => rounds.map((r) => f(r).toFixed(digits)).join(' ');
  const med = (rounds: Round[], f: (r: Round) => number, digits: number) => median(rounds.map(f)).toFixed(digits);
  const roundsWidth = Math.max(12, rows[0]!.rounds.length * 5);
  printRows(
    [['median MiB/s', 12], ['rounds MiB/s', -roundsWidth], ['peak RSS growth MB', 18], ['per round MB', -roundsWidth]],
    rows,
    (rounds) => [
      med(rounds, (r) => r.mibPerSecond, 0),
      each(rounds, (r) => r.mibPerSecond, 0),
      Math.max(...rounds.map((r) => r.rssGrowthMb)).toFixed(1),
      each(rounds, (r) => r.rssGrowthMb, 1),
    ],
  );
  console.log('\nPer upload, medians of the rounds (server = the server process; CPU counts all its threads):');
  printRows(
    [['server CPU ms/MiB', 17], ['GC pause ms', 11], ['full GCs', 8], ['heap before MB', 14], ['RSS before MB', 13], ['last PATCH ms', 13], ['client CPU ms/MiB', 17]],
    rows,
    (rounds) => [
      med(rounds, (r) => r.server.cpuMs / mib, 2),
      med(rounds, (r) => r.server.gcMs, 0),
      med(rounds, (r) => r.server.majorGcs, 0),
      med(rounds, (r) => r.server.baselineHeapUsed / MiB, 1),
      med(rounds, (r) => r.server.baselineRss / MiB, 0),
      med(rounds, (r) => r.lastPatchMs, 0),
      med(rounds, (r) => r.clientCpuMs / mib, 2),
    ],
  );
}

async function bench(dir: string, servers: { bare: ServerProcess; ministream: ServerProcess }): Promise<void> {
  const mib = positiveIntFromEnv('BENCH_UPLOAD_MIB', 256);
  const roundCount = positiveIntFromEnv('BENCH_UPLOAD_ROUNDS', 3);
  const bytes = mib * MiB;

  const made = performance.now();
  const file = await makeVideoFile(dir, bytes);
  const madeMs = performance.now() - made;
  const probed = performance.now();
  const facts = await inspectMedia(resolveMediaTools().ffprobe.path, file);
  const probeMs = performance.now() - probed;
  if (facts.kind !== 'video') throw new Error(`ffprobe does not take the padded MP4 for a video: ${facts.reason}`);

  const targets = [bareTarget(servers.bare), ministreamTarget(servers.ministream)];
  const load = loadavg()[0]!;
  console.log(`Ministream upload bench: node ${process.version}, ${cpus().length} CPUs, each server in its own process, client here`);
  if (load > BUSY_LOAD) {
    console.log(`WARNING: load average ${load.toFixed(2)} before the first upload: other processes compete for the CPUs and the numbers will be noisy`);
  }
  console.log(
    `file: ${mib} MiB (a ${facts.duration} s ${facts.videoCodec} MP4 padded with random bytes, made in ${madeMs.toFixed(0)} ms; ffprobe takes it in ${probeMs.toFixed(0)} ms)`,
  );
  console.log(`client: tus-js-client, ${CHUNK_SIZE / MiB} MiB chunks, no retries; ${roundCount} rounds per target, alternating`);

  const warmupBytes = Math.min(WARMUP_BYTES, bytes);
  for (const target of targets) {
    process.stdout.write(`  warm-up ${target.name} (${(warmupBytes / MiB).toFixed(0)} MiB, not counted) ...\n`);
    const { url } = await upload(target.endpoint, file, warmupBytes);
    const problem = await target.finish(url);
    if (problem) console.log(`WARNING: ${target.name} (warm-up): ${problem}`);
  }

  const results = new Map<Target, Round[]>(targets.map((t) => [t, []]));
  for (let round = 1; round <= roundCount; round++) {
    for (const target of targets) {
      const r = await measure(target, file, bytes);
      results.get(target)!.push(r);
      process.stdout.write(`  round ${round} ${target.name}: ${r.mibPerSecond.toFixed(0)} MiB/s, RSS +${r.rssGrowthMb.toFixed(1)} MB\n`);
    }
  }

  const rows: Row[] = targets.map((t) => ({ name: t.name, rounds: results.get(t)! }));
  console.log('');
  printTables(rows, mib);
  const [bare, ministream] = rows as [Row, Row];
  const ratio = median(ministream.rounds.map((r) => r.mibPerSecond)) / median(bare.rounds.map((r) => r.mibPerSecond));
  const growth = Math.max(...ministream.rounds.map((r) => r.rssGrowthMb));
  console.log('');
  console.log(`throughput ratio (ministream/bare): ${ratio.toFixed(2)} (aim >= ${THROUGHPUT_RATIO_AIM})`);
  console.log(`ministream memory growth: ${growth.toFixed(1)} MB (aim < ${MEMORY_GROWTH_AIM_MB} MB)`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ministream-bench-upload-'));
  const started: ServerProcess[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await Promise.all(started.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    })());
  // Ctrl-C: the servers get the signal too and close themselves; the file goes here.
  const onSignal = (signal: NodeJS.Signals) => {
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Started side by side; if either fails, the other is stopped before giving up.
    const [bare, ministream] = await Promise.allSettled([
      ServerProcess.start('bare @tus/server', './upload-bare.ts'),
      ServerProcess.start('ministream', './upload-server.ts'),
    ]);
    for (const s of [bare, ministream]) if (s.status === 'fulfilled') started.push(s.value);
    if (bare.status === 'rejected') throw bare.reason;
    if (ministream.status === 'rejected') throw ministream.reason;
    await bench(dir, { bare: bare.value, ministream: ministream.value });
  } finally {
    await cleanUp();
  }
}

main().catch((err: unknown) => {
  console.error('bench:upload failed:', err);
  process.exitCode = 1;
});
