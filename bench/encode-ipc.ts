// What bench/encode.ts and its Ministream child (bench/encode-server.ts) share: the IPC messages,
// a clock both processes agree on, and CPU accounting.
import { readFileSync } from 'node:fs';

/** Wall-clock milliseconds with sub-ms precision, comparable across the bench's processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** One process (ffmpeg or ffprobe) spawned by the server, timed with wallNow(). */
export interface SpawnRecord {
  /** The binary's base name. */
  bin: string;
  /** Its arguments. */
  args: string[];
  start: number;
  end: number;
  code: number | null;
  /** CPU time (user + system) the server process itself used while this process ran. */
  serverCpuMs: number;
  /** The spawned process's own CPU time (NaN without /proc). */
  cpuMs: number;
}

/** Child -> parent. */
export type EncodeServerMessage =
  | { type: 'ready'; port: number; ffmpeg: string }
  | { type: 'failed'; error: string }
  | ({ type: 'spawn' } & SpawnRecord);

// CPU accounting from /proc (Linux; elsewhere these return NaN and the report shows '-').
// USER_HZ is 100 on every Linux Node supports, so one tick is 10 ms.
const TICK_MS = 10;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) of this process's children that have ended and been reaped: fields
 * cutime and cstime of /proc/self/stat. Read before and after one child runs, the difference is
 * that child's own CPU time (as long as no other child ends meanwhile).
 */
export function reapedChildrenCpuMs(): number {
  const stat = readProc('/proc/self/stat');
  if (!stat) return NaN;
  // The fields after "(comm)": index 0 is field 3 (state), so field n is index n - 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) * TICK_MS;
}

/** CPU time the whole machine has spent busy (all cores; steal counts, as no one here got it). */
export function machineBusyMs(): number {
  const line = readProc('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return NaN;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * TICK_MS;
}

/** This process's own CPU time (user + system), in ms. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
