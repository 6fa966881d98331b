// Our small typed runner for ffmpeg and ffprobe. It replaces fluent-ffmpeg (deprecated on npm and
// archived in 2025; its author advises spawning ffmpeg directly): argument arrays, never a shell,
// progress read from `-progress pipe:1`, ffprobe output read as JSON.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    /** The last lines ffmpeg printed on stderr. */
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

export interface RunOptions {
  /** Called with the seconds of output written so far, from ffmpeg's `-progress` report. */
  onProgress?: (outSeconds: number) => void;
  signal?: AbortSignal;
  /** Kill the process after this many milliseconds. */
  timeoutMs?: number;
  /** Fed to the process's standard input (read it with `-i pipe:0`); its end is the input's end. */
  stdin?: Readable;
  /** Where the process's standard output goes (ffmpeg: write the output to `pipe:1`; no progress is reported then). */
  stdout?: Writable;
}

const STDERR_TAIL_BYTES = 8192;

interface Captured {
  stdout: string;
  stderrTail: string;
}

/** Spawns a binary with an argument array and collects its output; rejects on a non-zero exit. */
function run(bin: string, args: string[], opts: RunOptions & { onStdoutLine?: (line: string) => void } = {}): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], signal: opts.signal }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    if (opts.stdin && child.stdin) {
      // A process that exits before its input ends closes the pipe: that is its exit to report, not an error of ours.
      child.stdin.on('error', () => undefined);
      opts.stdin.pipe(child.stdin);
    }
    let stdout = '';
    let stderrTail = '';
    let pending = '';
    // Once the run has settled (an abort settles it before the process is gone), late output is
    // dropped: its consumers (progress into the store) may already be shut down.
    let settled = false;
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    const onStdout = (chunk: string) => {
      if (settled) return;
      if (!opts.onStdoutLine) {
        stdout += chunk;
        return;
      }
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        try {
          opts.onStdoutLine(line);
        } catch (err) {
          // A consumer that fails (say, its store is closed) ends the run instead of the process.
          settled = true;
          child.kill('SIGKILL');
          reject(err);
          return;
        }
      }
    };
    // Media for a consumer, or text (progress, JSON) collected here.
    if (opts.stdout) {
      child.stdout.pipe(opts.stdout);
    } else {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', onStdout);
    }
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (err) => {
      settled = true;
      clearTimeout(timer);
      reject(new FfmpegError(`${bin} failed to run: ${err.message}`, null, stderrTail));
    });
    child.on('close', (code, signal) => {
      settled = true;
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderrTail });
      else reject(new FfmpegError(`${bin} exited with ${code ?? signal}`, code, stderrTail));
    });
  });
}

/** Runs ffmpeg with `-progress pipe:1` so that progress arrives as key=value lines on stdout. */
export async function runFfmpeg(ffmpegPath: string, args: string[], opts: RunOptions = {}): Promise<string> {
  // With its own stdout, pipe:1 carries media: progress is not asked for.
  const fullArgs = ['-hide_banner', '-nostdin', '-y', ...(opts.stdout ? [] : ['-progress', 'pipe:1']), '-nostats', ...args];
  const { stderrTail } = await run(ffmpegPath, fullArgs, {
    ...opts,
    onStdoutLine: (line) => {
      // out_time_us is the position written so far (out_time_ms is also microseconds, a known misnomer).
      const m = /^out_time_us=(\d+)$/.exec(line);
      if (m && opts.onProgress) opts.onProgress(Number(m[1]) / 1e6);
    },
  });
  return stderrTail;
}

export interface ProbeStream {
  index: number;
  codec_type?: 'video' | 'audio' | 'subtitle' | 'data' | 'attachment';
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  nb_frames?: string;
  avg_frame_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

export interface ProbeFormat {
  format_name?: string;
  duration?: string;
  size?: string;
  bit_rate?: string;
}

export interface ProbeResult {
  streams: ProbeStream[];
  format: ProbeFormat;
}

/** ffprobe's JSON description of a file; rejects when ffprobe cannot read it at all. */
export async function ffprobe(ffprobePath: string, file: string, opts: RunOptions = {}): Promise<ProbeResult> {
  const { stdout } = await run(
    ffprobePath,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
    { timeoutMs: 30_000, ...opts },
  );
  const parsed = JSON.parse(stdout) as Partial<ProbeResult>;
  return { streams: parsed.streams ?? [], format: parsed.format ?? {} };
}
