// What live tests need around Ministream: an encoder (ffmpeg pushing a clip in real time, over RTMP
// or SRT), an RTMP receiver standing for a simulcast target (ffmpeg listening), and a webhook receiver.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { resolveMediaTools } from '../../src/transcode/binaries.js';

const ffmpeg = resolveMediaTools().ffmpeg.path;

export interface FfmpegProcess {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed) and what ffmpeg printed on stderr. */
  exited: Promise<{ code: number | null; stderr: string }>;
}

function run(args: string[]): FfmpegProcess {
  const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

/** An encoder: pushes `file` in real time (-re) to `url` (rtmp://host:port/live/<key>), looped when asked. */
export function pushClip(url: string, file: string, opts: { loop?: boolean } = {}): FfmpegProcess {
  return run(['-re', ...(opts.loop ? ['-stream_loop', '-1'] : []), '-i', file, '-c', 'copy', '-f', 'flv', url]);
}

/** The srt:// URL an encoder pushes to (or a viewer plays from), from an input's `srt` (`srtPlayback`) object. */
export function srtPushUrl(srt: { url?: string; streamId?: string; passphrase?: string }, passphrase = srt.passphrase): string {
  // pkt_size 1316: seven MPEG-TS packets per SRT packet, as encoders send them.
  return `${srt.url}?streamid=${srt.streamId}&passphrase=${passphrase}&pkt_size=1316`;
}

/** An encoder pushing `file` in real time over SRT (caller mode, MPEG-TS), as OBS and ffmpeg do. */
export function pushClipSrt(url: string, file: string): FfmpegProcess {
  return run(['-re', '-i', file, '-c', 'copy', '-f', 'mpegts', url]);
}

/** A viewer playing over SRT (caller mode) for `seconds`, saved to `out` (MPEG-TS). */
export function srtViewer(url: string, seconds: number, out: string): FfmpegProcess {
  return run(['-y', '-i', url, '-t', String(seconds), '-map', '0', '-c', 'copy', '-f', 'mpegts', out]);
}

/** An encoder pushing Sorenson H.263 (FLV's own codec, not H.264) for `seconds`. */
export function pushWrongCodec(url: string, seconds: number): FfmpegProcess {
  return run(['-re', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=10:duration=${seconds}`, '-c:v', 'flv', '-f', 'flv', url]);
}

/** A free TCP port on loopback (for a listener started right after). */
export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A simulcast target: ffmpeg waiting for one RTMP publish at rtmp://127.0.0.1:port/app/<key>, saved to `out` (FLV). */
export function rtmpReceiver(port: number, key: string, out: string): FfmpegProcess {
  return run(['-y', '-listen', '1', '-timeout', '60', '-i', `rtmp://127.0.0.1:${port}/app/${key}`, '-c', 'copy', '-f', 'flv', out]);
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** An app's webhook endpoint on loopback that answers 200 and keeps what it got. */
export async function webhookReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
