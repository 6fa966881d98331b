// Ministream for `npm run bench:encode`, run as a child process by bench/encode.ts: the same
// startMinistream() as the CLI (port 0, a temporary data folder removed on close, no logs), with
// the encoding mode given as the first argument ('full' or 'fast'). Its own event loop, so that
// the bench's 20 ms polling does not share one with the server.
//
// It also reports every ffmpeg/ffprobe process the server spawns (start and end times), so that
// the bench can tell how the time from upload to readyToStream splits. To see them, the server's
// `spawn` is wrapped through node:module's syncBuiltinESMExports (a timing wrapper only: the
// arguments and the child process are passed through untouched).
import childProcess, { type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { DEFAULTS, type Config } from '../src/config.js';
import { startMinistream, type RunningMinistream } from '../src/server.js';
import { ownCpuMs, reapedChildrenCpuMs, wallNow, type EncodeServerMessage } from './encode-ipc.js';

function traceSpawns(send: (msg: EncodeServerMessage) => void): void {
  const original = childProcess.spawn;
  const traced = function (this: unknown, ...args: unknown[]): ChildProcess {
    const start = wallNow();
    const serverCpu = ownCpuMs();
    const reaped = reapedChildrenCpuMs();
    const child = (original as (...a: unknown[]) => ChildProcess).apply(this, args);
    const bin = basename(String(args[0]));
    const argv = Array.isArray(args[1]) ? (args[1] as unknown[]).map(String) : [];
    // 'close' comes after the process was reaped, so its CPU time is in cutime/cstime by then.
    child.once('close', (code: number | null) => {
      const end = wallNow();
      send({ type: 'spawn', bin, args: argv, start, end, code, serverCpuMs: ownCpuMs() - serverCpu, cpuMs: reapedChildrenCpuMs() - reaped });
    });
    return child;
  };
  childProcess.spawn = traced as typeof childProcess.spawn;
  syncBuiltinESMExports();
}

function main(): void {
  const send = process.send?.bind(process) as ((msg: EncodeServerMessage) => boolean) | undefined;
  if (!send) {
    console.error('this file is a server process of bench/encode.ts; run `npx tsx bench/encode.ts`');
    process.exitCode = 1;
    return;
  }
  const mode = process.argv[2];
  if (mode !== 'full' && mode !== 'fast') {
    send({ type: 'failed', error: `encoding mode must be full or fast, got "${mode}"` });
    process.exitCode = 1;
    return;
  }
  const post = (msg: EncodeServerMessage) => {
    if (process.connected) send(msg);
  };
  traceSpawns(post);

  let server: RunningMinistream | undefined;
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    try {
      await server?.close();
    } finally {
      process.exit(0);
    }
  };
  process.once('disconnect', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());

  const config: Config = { ...DEFAULTS, port: 0, inMemory: true, logLevel: 'silent', encoding: mode };
  // Where this Ministream has live inputs, their RTMP listener takes a free port, not the default
  // 1935 that another Ministream on the machine may hold (written so as to compile either way).
  if ('rtmpPort' in config) (config as unknown as Record<string, unknown>).rtmpPort = 0;
  startMinistream(config).then(
    (started) => {
      server = started;
      if (closing) {
        void started.close();
        return;
      }
      const { ffmpeg } = started.app.ministream.tools;
      post({ type: 'ready', port: started.port, ffmpeg: `${ffmpeg.path} (${ffmpeg.version})` });
    },
    (err: unknown) => {
      post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
      process.exitCode = 1;
      if (process.connected) process.disconnect();
    },
  );
}

main();
