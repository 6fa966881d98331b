// `npm run bench:live`: how soon a live push becomes playable. A 640x360 clip (1-s GOP) is pushed in
// real time (-re) and the time from starting the encoder to the first playable segment is taken:
// - baseline: the same ffmpeg writing HLS itself (2-s segments), no server at all: the least a
//   2-s-segment live stream can take;
// - Ministream over RTMP: push to the input's RTMP URL, until its live playlist lists a segment;
// - Ministream over SRT: the same through the SRT relay (when srt-live-transmit is installed).
// Targets alternate round by round. It is a report: missing the aim does not change the exit code.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { awaitChild, stopChild } from './child.js';
import { positiveIntFromEnv } from './env.js';
import type { LiveServerMessage } from './live-server.js';

const ROUNDS = positiveIntFromEnv('BENCH_LIVE_ROUNDS', 3);
const CLIP_SECONDS = 12;
const POLL_MS = 25;
const TIMEOUT_MS = 30_000;
/** Aim: Ministream's RTMP path within 1.5x of the bare packaging. */
const RATIO_AIM = 1.5;
const ffmpeg = resolveMediaTools().ffmpeg.path;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(args: string[]): ChildProcess {
  return spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { stdio: 'ignore' });
}

async function until(probe: () => Promise<boolean> | boolean): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < TIMEOUT_MS) {
    if (await probe()) return performance.now();
    await sleep(POLL_MS);
  }
  throw new Error(`nothing playable within ${TIMEOUT_MS / 1000} s`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Milliseconds from starting the encoder to the first segment of a playlist. */
async function firstPlayable(startEncoder: () => ChildProcess, playable: () => Promise<boolean> | boolean): Promise<number> {
  const started = performance.now();
  const encoder = startEncoder();
  try {
    return (await until(playable)) - started;
  } finally {
    await stop(encoder);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ministream-bench-live-'));
  const clip = join(work, 'clip.mp4');
  const made = run(['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=25:duration=${CLIP_SECONDS}`, '-f', 'lavfi', '-i', `sine=frequency=440:duration=${CLIP_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip]);
  await new Promise((resolve) => made.once('exit', resolve));

  const child = fork(fileURLToPath(new URL('./live-server.ts', import.meta.url)), [], { execArgv: ['--import', import.meta.resolve('tsx')] });
  let exited = false;
  child.once('exit', () => (exited = true));
  const ready = await awaitChild(child, 'ministream', 30_000, (msg: LiveServerMessage) =>
    msg.type === 'ready' ? msg : msg.type === 'failed' ? new Error(msg.error) : undefined);
  const base = `http://127.0.0.1:${ready.port}`;
  console.log(`\nMinistream live bench: node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}; a ${CLIP_SECONDS}-s 640x360 clip, 1-s GOP, pushed with -re`);
  if (loadavg()[0]! > 1) console.log('WARNING: other processes compete for the CPUs; the numbers will be noisy');

  const targets: { name: string; measure: (round: number) => Promise<number> }[] = [
    {
      name: 'bare ffmpeg HLS (baseline)',
      measure: (round) => {
        const playlist = join(work, `base-${round}.m3u8`);
        return firstPlayable(
          () => run(['-re', '-i', clip, '-c', 'copy', '-f', 'hls', '-hls_time', '2', '-hls_list_size', '10', playlist]),
          () => { try { return readFileSync(playlist, 'utf8').includes('#EXTINF'); } catch { return false; } },
        );
      },
    },
    ...(['rtmp', ...(ready.srt ? ['srt'] : [])] as const).map((protocol) => ({
      name: `ministream over ${protocol.toUpperCase()}`,
      measure: async () => {
        const res = await fetch(`${base}/client/v4/accounts/bench/stream/live_inputs`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ recording: { mode: 'automatic' } }),
        });
        const input = ((await res.json()) as { result: { uid: string; rtmps: { url: string; streamKey: string }; srt: { url: string; streamId: string; passphrase: string } } }).result;
        const target = protocol === 'rtmp'
          ? ['-f', 'flv', `${input.rtmps.url}${input.rtmps.streamKey}`.replace('localhost', '127.0.0.1')]
          : ['-f', 'mpegts', `${input.srt.url}?streamid=${input.srt.streamId}&passphrase=${input.srt.passphrase}&pkt_size=1316`.replace('localhost', '127.0.0.1')];
        return firstPlayable(
          () => run(['-re', '-i', clip, '-c', 'copy', ...target]),
          async () => {
            const playlist = await fetch(`${base}/${input.uid}/manifest/v0.m3u8`).catch(() => undefined);
            return playlist?.status === 200 && (await playlist.text()).includes('#EXTINF');
          },
        );
      },
    })),
  ];

  const results = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of targets) {
        const ms = await t.measure(round);
        results.get(t.name)!.push(ms);
        console.log(`  round ${round} ${t.name}: first playable ${Math.round(ms)} ms`);
        await sleep(1500); // the previous broadcast ends (its recording is queued) before the next push
      }
    }
  } finally {
    await stopChild(child, exited);
    rmSync(work, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const baseline = median(results.get(targets[0]!.name)!);
  console.log('\ntarget                        median ms  rounds ms           ratio');
  for (const t of targets) {
    const xs = results.get(t.name)!;
    console.log(`${t.name.padEnd(30)}${String(Math.round(median(xs))).padStart(9)}  ${xs.map((x) => String(Math.round(x)).padStart(5)).join(' ').padEnd(20)}${(median(xs) / baseline).toFixed(2)}`);
  }
  const rtmp = median(results.get('ministream over RTMP')!) / baseline;
  console.log(`\nfirst playable, RTMP vs bare ffmpeg HLS: ${rtmp.toFixed(2)}x (aim <= ${RATIO_AIM})`);
  if (!ready.srt) console.log('SRT: not measured (srt-live-transmit is not installed)');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
