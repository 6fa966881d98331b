// The IPC side of the two server processes of `npm run bench:upload` (bench/upload-server.ts runs
// Ministream, bench/upload-bare.ts a bare @tus/server). Each server runs in its own process, so
// that it has its own event loop (the client in bench/upload.ts has another) and so that the
// memory it reports is its own: on request it samples its RSS every 100 ms while an upload runs,
// and it counts its CPU time and garbage collections over the same span.
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** Parent -> child. */
export type ParentMessage = { type: 'measure-start'; id: number } | { type: 'measure-stop'; id: number };

/** What a server process saw during one upload. */
export interface Measurement {
  /** RSS in bytes just before the upload (after a full garbage collection). */
  baselineRss: number;
  /** Highest RSS in bytes sampled during the upload. */
  peakRss: number;
  samples: number;
  /** V8 heap in use just before the upload (after that collection), in bytes. */
  baselineHeapUsed: number;
  /** CPU time of the whole process (all threads) during the upload. */
  cpuMs: number;
  /** Main-thread pauses for garbage collection during the upload. */
  gcMs: number;
  /** How many of those collections were full (mark-compact) ones. */
  majorGcs: number;
}

/** Child -> parent. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'failed'; error: string }
  | { type: 'measure-started'; id: number }
  | ({ type: 'measure'; id: number } & Measurement);

export interface ChildServer {
  port: number;
  close(): Promise<void>;
}

const SAMPLE_EVERY_MS = 100;

/** Where the bare server (bench/upload-bare.ts) takes uploads. */
export const BARE_TUS_PATH = '/files';

/**
 * Starts a server and serves the parent's measuring requests until the parent goes away (the IPC
 * channel closes) or a signal arrives; then closes the server and exits. Does nothing unless
 * this process was forked with an IPC channel.
 */
export function runServerChild(start: () => Promise<ChildServer>): void {
  const send = process.send?.bind(process);
  if (!send) {
    console.error('this file is a server process of bench/upload.ts; run `npx tsx bench/upload.ts`');
    process.exitCode = 1;
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  const starting = start();
  let timer: NodeJS.Timeout | undefined;
  let m: Measurement = { baselineRss: 0, peakRss: 0, samples: 0, baselineHeapUsed: 0, cpuMs: 0, gcMs: 0, majorGcs: 0 };
  let cpuAtStart = process.cpuUsage();

  const sample = () => {
    const rss = process.memoryUsage.rss();
    m.samples += 1;
    if (rss > m.peakRss) m.peakRss = rss;
  };
  const countGcs = (entries: PerformanceEntry[]) => {
    for (const e of entries) {
      m.gcMs += e.duration;
      const { detail } = e as PerformanceEntry & { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) m.majorGcs += 1;
    }
  };
  const gcObserver = new PerformanceObserver((list) => countGcs(list.getEntries()));
  gcObserver.observe({ entryTypes: ['gc'] });
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  let exiting = false;
  const shutdown = (code: number) => {
    if (exiting) return;
    exiting = true;
    if (timer) clearInterval(timer);
    // A server still starting is closed once it has started (Ministream removes its temp folder).
    const closing = starting.then((server) => server.close());
    // A server that does not close in time is left behind: its process is ending anyway.
    setTimeout(() => process.exit(code), 5_000).unref();
    void closing.catch(() => undefined).finally(() => process.exit(code));
  };

  process.on('message', async (msg: ParentMessage) => {
    if (msg.type === 'measure-start') {
      if (timer) clearInterval(timer);
      // A full collection first, so that the baseline does not hold the garbage of the last round;
      // its 'gc' entry arrives a turn later and is not counted.
      gc?.();
      await nextTurn();
      await nextTurn();
      gcObserver.takeRecords();
      m = { ...m, baselineRss: process.memoryUsage.rss(), samples: 0, baselineHeapUsed: process.memoryUsage().heapUsed, gcMs: 0, majorGcs: 0 };
      m.peakRss = m.baselineRss;
      cpuAtStart = process.cpuUsage();
      timer = setInterval(sample, SAMPLE_EVERY_MS);
      send({ type: 'measure-started', id: msg.id } satisfies ChildMessage);
    } else if (msg.type === 'measure-stop') {
      if (timer) clearInterval(timer);
      timer = undefined;
      sample();
      const cpu = process.cpuUsage(cpuAtStart);
      m.cpuMs = (cpu.user + cpu.system) / 1000;
      countGcs(gcObserver.takeRecords());
      send({ type: 'measure', id: msg.id, ...m } satisfies ChildMessage);
    }
  });
  // The parent going away (normally or not) ends the server.
  process.on('disconnect', () => shutdown(0));
  process.on('SIGINT', () => shutdown(130));
  process.on('SIGTERM', () => shutdown(143));

  starting.then(
    (started) => {
      if (!exiting) send({ type: 'ready', port: started.port } satisfies ChildMessage);
    },
    (err: unknown) => {
      send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ChildMessage, () => process.exit(1));
    },
  );
}
