// `npm run bench:encode`: how long Ministream takes to turn an upload into a ready video, next to
// the very same ffmpeg command run by hand. The baseline is the ladder that planEncode() builds
// (one ffmpeg process: split + scale to every rung, CMAF DASH + HLS in one pass), with
// Ministream's default preset, run with the project's own runFfmpeg(). Ministream runs in a child
// process (bench/encode-server.ts) so that the 20 ms polling here does not share its event loop;
// its time runs from the upload's response (the video is queued) to the first GET that shows
// readyToStream. The server child reports when it spawned ffmpeg/ffprobe, so the bench also shows
// where Ministream's extra time goes. It is a report, not a test: missing an aim does not change
// the exit code (only a bench that cannot run exits 1).
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, openAsBlob, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitChild, stopChild } from './child.js';
import { DEFAULTS } from '../src/config.js';
import { STREAM_FILES } from '../src/transcode/encode-job.js';
import { runFfmpeg } from '../src/transcode/ffmpeg.js';
import { inspectMedia, type VideoFacts } from '../src/transcode/inspect.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { planEncode } from '../src/transcode/ladder.js';
import { machineBusyMs, ownCpuMs, reapedChildrenCpuMs, wallNow, type EncodeServerMessage, type SpawnRecord } from './encode-ipc.js';
import { positiveIntFromEnv } from './env.js';

const ACCOUNT = 'bench-account';
const CLIP_SECONDS = 10;
const RATIO_AIM = 1.15;
const FAST_READY_AIM_S = 1;
const START_TIMEOUT_MS = 30_000;
/** Upload + encode of one 10 s clip; far more than the few seconds it takes. */
const READY_TIMEOUT_MS = 120_000;


const ROUNDS = positiveIntFromEnv('BENCH_ENCODE_ROUNDS', 3);
/** How often the client asks for the video while it encodes (start to start). */
const POLL_MS = positiveIntFromEnv('BENCH_ENCODE_POLL_MS', 20);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// The Ministream child

class EncodeServer {
  private exited = false;
  /** Every process the server spawned, in the order they ended. */
  readonly spawns: SpawnRecord[] = [];

  private constructor(
    readonly mode: 'full' | 'fast',
    readonly port: number,
    readonly ffmpeg: string,
    private readonly child: ChildProcess,
  ) {
    child.once('exit', () => (this.exited = true));
    child.on('message', (msg: EncodeServerMessage) => {
      if (msg.type === 'spawn') {
        const { type: _type, ...record } = msg;
        this.spawns.push(record);
      }
    });
  }

  static start(mode: 'full' | 'fast'): Promise<EncodeServer> {
    const file = fileURLToPath(new URL('./encode-server.ts', import.meta.url));
    // TypeScript too: tsx is resolved from here rather than from the cwd.
    const child = fork(file, [mode], { execArgv: ['--import', import.meta.resolve('tsx')] });
    return awaitChild(child, `ministream (${mode})`, START_TIMEOUT_MS, (msg: EncodeServerMessage) => {
      if (msg.type === 'failed') return new Error(`ministream (${mode}) failed to start: ${msg.error}`);
      return msg.type === 'ready' ? new EncodeServer(mode, msg.port, msg.ffmpeg, child) : undefined;
    });
  }

  get streamUrl(): string {
    return `http://127.0.0.1:${this.port}/client/v4/accounts/${ACCOUNT}/stream`;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Closing the IPC channel ends the server (it closes and removes its data folder); kill if it hangs. */
  stop(): Promise<void> {
    return stopChild(this.child, this.exited);
  }
}

// ---------------------------------------------------------------------------------------------
// The measurements

interface VideoBody {
  success: boolean;
  result?: { uid: string; readyToStream: boolean; readyToStreamAt: string | null; status: { state: string; errorReasonCode?: string | null } };
  errors?: unknown[];
}

/** One timed run and the CPU the machine spent meanwhile (ms; NaN without /proc). */
interface Run {
  ms: number;
  /** ffmpeg's own CPU time (and the job's ffprobe, for Ministream). */
  toolCpuMs: number;
  /** The bench client, plus Ministream's server process while its ffmpeg ran. */
  nodeCpuMs: number;
  /** Everything else on the machine: other people's work, steal. */
  otherCpuMs: number;
}

/** One Ministream round, in wall-clock ms (performance.timeOrigin-based, shared with the child). */
interface MinistreamRound extends Run {
  /** POST sent -> its response read (the file streamed, probed, the video queued). */
  uploadMs: number;
  /** Upload response -> first GET answer with readyToStream: the measured number. */
  readyMs: number;
  /** The server's readyToStreamAt, minus the upload response time. */
  serverReadyMs: number;
  polls: number;
  pollRttMedianMs: number;
  /** CPU time this (client) process used while polling. */
  clientCpuMs: number;
  /** The job's ffprobe and ffmpeg processes (spawned after the upload response). */
  probe?: SpawnRecord;
  encode?: SpawnRecord;
  responded: number;
  ready: number;
}

/** "2026-11-30T03:40:00.123456Z" -> ms since the epoch, with the microseconds. */
function parseMicros(ts: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})\.(\d{6})Z$/.exec(ts);
  if (!m) return Date.parse(ts);
  return Date.parse(`${m[1]}Z`) + Number(m[2]) / 1000;
}

async function readJson(res: Response, what: string): Promise<VideoBody> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as VideoBody;
}

/**
 * The polling GET, on node:http with a keep-alive agent: about a third less CPU per request than
 * fetch() (here 1.1 ms instead of 1.6-1.8 ms).
 * The client shares two cores with ffmpeg, so every millisecond it burns slows the encode it times.
 */
const pollAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function getVideo(url: string): Promise<VideoBody> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: pollAgent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 300)}`));
        else resolve(JSON.parse(text) as VideoBody);
      });
    });
    req.on('error', reject);
  });
}

async function uploadAndWait(server: EncodeServer, clip: string): Promise<MinistreamRound> {
  const form = new FormData();
  form.append('file', await openAsBlob(clip, { type: 'video/mp4' }), 'bench-clip.mp4');
  const spawnsBefore = server.spawns.length;
  const sent = wallNow();
  const uploaded = await readJson(await fetch(server.streamUrl, { method: 'POST', body: form }), 'basic upload');
  const responded = wallNow();
  const uid = uploaded.result?.uid;
  if (!uid) throw new Error(`the upload answer has no uid: ${JSON.stringify(uploaded).slice(0, 300)}`);

  const rtts: number[] = [];
  const clientCpu = ownCpuMs();
  const busy = machineBusyMs();
  let body: VideoBody;
  let ready: number;
  for (let next = responded; ; ) {
    const asked = wallNow();
    body = await getVideo(`${server.streamUrl}/${uid}`);
    const answered = wallNow();
    rtts.push(answered - asked);
    if (body.result?.readyToStream) {
      ready = answered;
      break;
    }
    const state = body.result?.status.state;
    if (state === 'error') throw new Error(`the video ended in error: ${body.result?.status.errorReasonCode}`);
    if (answered - responded > READY_TIMEOUT_MS) throw new Error(`the video was not ready ${READY_TIMEOUT_MS / 1000} s after its upload (state ${state})`);
    if (!server.alive) throw new Error('the Ministream child exited');
    next += POLL_MS;
    const wait = next - wallNow();
    if (wait > 0) await sleep(wait);
    else next = wallNow(); // a slow answer: ask again at once, and keep the 20 ms rhythm from here
  }

  const busyMs = machineBusyMs() - busy;
  const clientCpuMs = ownCpuMs() - clientCpu;

  // The video's processes end before readyToStream; their 'spawn' messages come over IPC soon after.
  await sleep(50);
  // From the POST on: the upload's own ffprobe (before the response), then the job's ffprobe (it
  // may start before the response is written: the job is picked up on the enqueue's microtask),
  // then ffmpeg.
  const spawned = server.spawns.slice(spawnsBefore).filter((p) => p.start >= sent);
  const encode = spawned.find((p) => p.bin.startsWith('ffmpeg'));
  const probes = spawned.filter((p) => p.bin.startsWith('ffprobe') && (!encode || p.start < encode.start));
  const probe = probes.length >= 2 ? probes.at(-1) : undefined;
  const toolCpuMs = (encode?.cpuMs ?? NaN) + (probe?.cpuMs ?? 0);
  const nodeCpuMs = clientCpuMs + (encode?.serverCpuMs ?? 0);
  const round: MinistreamRound = {
    ms: ready - responded,
    toolCpuMs,
    nodeCpuMs,
    otherCpuMs: busyMs - toolCpuMs - nodeCpuMs,
    uploadMs: responded - sent,
    readyMs: ready - responded,
    serverReadyMs: body.result?.readyToStreamAt ? parseMicros(body.result.readyToStreamAt) - responded : NaN,
    polls: rtts.length,
    pollRttMedianMs: median(rtts),
    clientCpuMs,
    probe,
    encode,
    responded,
    ready,
  };
  // Outside the timed part: the row and the folder go, so the disk holds one video at a time.
  const del = await fetch(`${server.streamUrl}/${uid}`, { method: 'DELETE' });
  await del.arrayBuffer();
  if (!del.ok) throw new Error(`DELETE video ${uid}: ${del.status}`);
  return round;
}

async function generateClip(ffmpeg: string, dir: string): Promise<string> {
  const clip = join(dir, 'clip-1080p.mp4');
  await runFfmpeg(ffmpeg, [
    '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(CLIP_SECONDS),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
    '-movflags', '+faststart',
    clip,
  ]);
  return clip;
}

/** The arguments the encode job gives ffmpeg (src/transcode/encode-job.ts), for planEncode()'s full ladder. */
function ladderArgs(clip: string, outDir: string, facts: VideoFacts): string[] {
  const plan = planEncode(clip, outDir, facts, {
    mode: 'full',
    preset: DEFAULTS.x264Preset,
    manifestName: STREAM_FILES.manifest,
    masterName: STREAM_FILES.master,
  });
  return ['-loglevel', 'error', ...plan.args];
}

/** ffmpeg's arguments with the input file and the output folder left out, for comparison. */
function withoutPaths(args: string[]): string {
  const from = args.indexOf('-loglevel');
  const tail = (from >= 0 ? args.slice(from) : args).map((a, i, all) => (all[i - 1] === '-i' ? '<input>' : a));
  const last = tail.length - 1;
  tail[last] = `<out>/${basename(tail[last] ?? '')}`;
  return JSON.stringify(tail);
}

/** The baseline: planEncode()'s ladder, one ffmpeg process, as the encode job runs it. */
async function rawLadder(ffmpeg: string, clip: string, facts: VideoFacts, outDir: string): Promise<Run> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const args = ladderArgs(clip, outDir, facts);
  const busy = machineBusyMs();
  const own = ownCpuMs();
  const reaped = reapedChildrenCpuMs();
  const started = wallNow();
  // runFfmpeg adds what it adds for the job too (-progress pipe:1, -nostdin, ...).
  await runFfmpeg(ffmpeg, args);
  const ms = wallNow() - started;
  const toolCpuMs = reapedChildrenCpuMs() - reaped;
  const nodeCpuMs = ownCpuMs() - own;
  const otherCpuMs = machineBusyMs() - busy - toolCpuMs - nodeCpuMs;
  for (const name of [STREAM_FILES.manifest, STREAM_FILES.master]) {
    if (!existsSync(join(outDir, name))) throw new Error(`the raw ffmpeg ladder wrote no ${name}`);
  }
  rmSync(outDir, { recursive: true, force: true });
  return { ms, toolCpuMs, nodeCpuMs, otherCpuMs };
}

// ---------------------------------------------------------------------------------------------
// The report

const s = (ms: number) => (ms / 1000).toFixed(2);
const msText = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : '-');

function printRuns(rows: { name: string; runs: Run[] }[]): void {
  const nameWidth = Math.max(...rows.map((r) => r.name.length), 4);
  const runsText = (r: { runs: Run[] }) => r.runs.map((x) => s(x.ms)).join(' / ');
  const runsWidth = Math.max(...rows.map((r) => runsText(r).length), 10);
  const cpu = (runs: Run[], of: (x: Run) => number) => {
    const v = runs.map(of).filter(Number.isFinite);
    return (v.length ? s(median(v)) : '-').padStart(9);
  };
  const perRun = (r: { runs: Run[] }) => r.runs.map((x) => (Number.isFinite(x.otherCpuMs) ? (x.otherCpuMs / 1000).toFixed(1) : '-')).join(' / ');
  console.log(
    ['case'.padEnd(nameWidth), 'runs, s'.padEnd(runsWidth), 'median s', 'tool CPU', 'node CPU', 'other CPU', '  other, per run'].join('  '),
  );
  for (const r of rows) {
    console.log(
      [
        r.name.padEnd(nameWidth),
        runsText(r).padEnd(runsWidth),
        s(median(r.runs.map((x) => x.ms))).padStart(8),
        cpu(r.runs, (x) => x.toolCpuMs).padStart(8),
        cpu(r.runs, (x) => x.nodeCpuMs).padStart(8),
        cpu(r.runs, (x) => x.otherCpuMs).padStart(9),
        `  ${perRun(r)}`,
      ].join('  '),
    );
  }
  console.log('(CPU columns: medians, CPU-seconds over the timed span. tool = ffmpeg (+ the job\'s ffprobe); node = the');
  console.log(' bench client + the Ministream process while ffmpeg ran; other = the rest of the machine, e.g. other people\'s work)');
}

/** Where a Ministream round's time went, from the upload response on (medians over the rounds). */
function printBreakdown(title: string, rounds: MinistreamRound[]): void {
  const phases: { name: string; of: (r: MinistreamRound) => number }[] = [
    { name: 'upload response -> job ffprobe starts (< 0: before)', of: (r) => (r.probe ? r.probe.start - r.responded : NaN) },
    { name: 'job ffprobe runs', of: (r) => (r.probe ? r.probe.end - r.probe.start : NaN) },
    { name: 'ffprobe ends -> ffmpeg starts', of: (r) => (r.probe && r.encode ? r.encode.start - r.probe.end : NaN) },
    { name: 'ffmpeg runs', of: (r) => (r.encode ? r.encode.end - r.encode.start : NaN) },
    { name: 'ffmpeg ends -> readyToStreamAt (rename, DB)', of: (r) => (r.encode ? r.responded + r.serverReadyMs - r.encode.end : NaN) },
    { name: 'readyToStreamAt -> client sees it (polling)', of: (r) => r.readyMs - r.serverReadyMs },
    { name: 'total: upload response -> readyToStream seen', of: (r) => r.readyMs },
  ];
  const width = Math.max(...phases.map((p) => p.name.length));
  console.log(`\n${title}`);
  console.log(`${'phase'.padEnd(width)}  ${'median ms'.padStart(9)}  runs, ms`);
  for (const p of phases) {
    const values = rounds.map(p.of);
    const finite = values.filter(Number.isFinite);
    console.log(`${p.name.padEnd(width)}  ${(finite.length ? msText(median(finite)) : '-').padStart(9)}  ${values.map(msText).join(' / ')}`);
  }
  const rtt = median(rounds.map((r) => r.pollRttMedianMs));
  const polls = median(rounds.map((r) => r.polls));
  const upload = median(rounds.map((r) => r.uploadMs));
  const serverCpu = rounds.map((r) => r.encode?.serverCpuMs ?? NaN).filter(Number.isFinite);
  const clientCpu = median(rounds.map((r) => r.clientCpuMs));
  console.log(`(the POST itself took ${msText(upload)} ms, not counted; ${polls} GETs per round, median round trip ${rtt.toFixed(1)} ms;`);
  console.log(
    ` CPU next to ffmpeg: server process ${serverCpu.length ? msText(median(serverCpu)) : '-'} ms while ffmpeg ran, polling client ${msText(clientCpu)} ms per round)`,
  );
}

/**
 * ffmpeg wants both cores: other work on the machine makes every number here slower and noisier.
 * One second of /proc/stat before the bench says whether the machine is busy right now.
 */
async function warnIfBusy(): Promise<void> {
  const before = machineBusyMs();
  await sleep(1000);
  const cores = (machineBusyMs() - before) / 1000;
  if (cores > 0.25 * cpus().length) {
    console.log(`WARNING: the machine is busy before the bench (${cores.toFixed(1)} of ${cpus().length} cores); the numbers will be noisy`);
  }
}

/** Says so when other processes took a noticeable share of the CPU during the timed runs. */
function warnIfDisturbed(rows: { name: string; runs: Run[] }[]): void {
  for (const { name, runs } of rows) {
    const other = median(runs.map((r) => r.otherCpuMs));
    const tool = median(runs.map((r) => r.toolCpuMs));
    if (other > 0.1 * tool && other > 100) {
      console.log(`WARNING: ${name}: other processes used ${s(other)} CPU-s per run (ffmpeg ${s(tool)}); its times are inflated and the ratio is unreliable`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function bench(work: string, servers: Set<EncodeServer>): Promise<void> {
  const tools = resolveMediaTools();
  const ffmpeg = tools.ffmpeg.path;
  console.log(`Ministream encode bench: node ${process.version}, ${cpus().length} CPUs, ${tools.ffmpeg.version.replace(/ Copyright.*$/, '')} (${ffmpeg})`);
  console.log(`rounds: ${ROUNDS} (BENCH_ENCODE_ROUNDS), polling every ${POLL_MS} ms (BENCH_ENCODE_POLL_MS), preset ${DEFAULTS.x264Preset}`);
  await warnIfBusy();

  const genStart = wallNow();
  const clip = await generateClip(ffmpeg, work);
  const facts = await inspectMedia(tools.ffprobe.path, clip);
  if (facts.kind !== 'video') throw new Error(`the generated clip is not a video: ${facts.reason}`);
  const ladder = planEncode(clip, work, facts, { mode: 'full', preset: DEFAULTS.x264Preset, manifestName: 'm', masterName: 'h' }).rungs;
  console.log(
    `clip: ${facts.width}x${facts.height} ${facts.duration.toFixed(1)} s ${facts.videoCodec}+${facts.audioCodec}, ` +
      `${(statSync(clip).size / 1e6).toFixed(1)} MB, made in ${s(wallNow() - genStart)} s; ladder ${ladder.map((r) => `${r.name}p`).join(' ')}`,
  );

  // Full mode: baseline and Ministream alternate, so that a slow spell of the machine hits both,
  // and which goes first swaps every round (ABBA), so that neither always follows the other.
  const full = await EncodeServer.start('full');
  servers.add(full);
  if (full.ffmpeg.split(' ')[0] !== ffmpeg) console.log(`WARNING: Ministream uses ${full.ffmpeg}, the baseline ${ffmpeg}`);
  const raw: Run[] = [];
  const fullRounds: MinistreamRound[] = [];
  const runRaw = async () => {
    process.stdout.write(' raw ffmpeg ...');
    raw.push(await rawLadder(ffmpeg, clip, facts, join(work, 'raw-out')));
    process.stdout.write(` ${s(raw.at(-1)!.ms)} s;`);
  };
  const runFull = async () => {
    process.stdout.write(' ministream full ...');
    fullRounds.push(await uploadAndWait(full, clip));
    process.stdout.write(` ${s(fullRounds.at(-1)!.readyMs)} s;`);
  };
  for (let i = 1; i <= ROUNDS; i++) {
    process.stdout.write(`  round ${i}/${ROUNDS}:`);
    for (const step of i % 2 ? [runRaw, runFull] : [runFull, runRaw]) await step();
    process.stdout.write('\n');
  }
  await full.stop();
  servers.delete(full);

  // Fast mode: its own server; one untimed upload first (the server's first request paths warm up).
  const fast = await EncodeServer.start('fast');
  servers.add(fast);
  process.stdout.write('  ministream fast: warm-up upload (not timed) ...');
  await uploadAndWait(fast, clip);
  process.stdout.write(' done; timed:');
  const fastRounds: MinistreamRound[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    fastRounds.push(await uploadAndWait(fast, clip));
    process.stdout.write(` ${s(fastRounds.at(-1)!.readyMs)} s`);
  }
  process.stdout.write('\n');
  await fast.stop();
  servers.delete(fast);

  // The baseline must be the very command Ministream runs.
  const inside = fullRounds.find((r) => r.encode)?.encode;
  if (!inside) console.log('WARNING: no ffmpeg process of Ministream was seen; the breakdown below is incomplete');
  else if (withoutPaths(inside.args) !== withoutPaths(ladderArgs(clip, join(work, 'raw-out'), facts))) {
    console.log(`WARNING: Ministream ran ffmpeg with other arguments than the baseline: ${withoutPaths(inside.args)}`);
  }

  const fullMs = fullRounds.map((r) => r.readyMs);
  const fastMs = fastRounds.map((r) => r.readyMs);
  console.log('');
  const rows = [
    { name: 'raw ffmpeg (ffmpeg wall time)', runs: raw },
    { name: 'ministream full (upload answered -> ready)', runs: fullRounds },
    { name: 'ministream fast (upload answered -> ready)', runs: fastRounds },
  ];
  printRuns(rows);
  warnIfDisturbed(rows);
  printBreakdown('Ministream full: where the time goes (from the upload response)', fullRounds);
  printBreakdown('Ministream fast: where the time goes (from the upload response)', fastRounds);

  const ratio = median(fullMs) / median(raw.map((r) => r.ms));
  console.log('');
  console.log(`encode ratio (ministream/raw ffmpeg): ${ratio.toFixed(2)} (aim <= ${RATIO_AIM})`);
  console.log(`fast mode ready: ${s(median(fastMs))} s (aim < ${FAST_READY_AIM_S} s)`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ministream-encode-bench-'));
  const servers = new Set<EncodeServer>();
  const cleanUp = async () => {
    await Promise.all([...servers].map((server) => server.stop()));
    pollAgent.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  // Ctrl-C: the children get the signal too and close themselves; the temp folder goes here.
  process.once('SIGINT', () => {
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    await bench(work, servers);
  } finally {
    await cleanUp();
  }
}

main().catch((err: unknown) => {
  console.error('\nbench:encode failed:', err);
  process.exitCode = 1;
});
