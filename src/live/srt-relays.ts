// What serves an SRT caller once it has knocked (srt-port.ts): srt-live-transmit listening on the
// input's port, with its passphrase, joined to ffmpeg by a pipe.
// - ingest: the encoder's MPEG-TS goes through ffmpeg (-c copy) into Ministream's own RTMP ingest,
//   so everything after the connection (status, live HLS, recording, simulcast, events) is the
//   RTMP path's;
// - playback: ffmpeg plays the broadcast from the RTMP server (by the playback key) and its MPEG-TS
//   goes to the viewer.
import { spawn } from 'node:child_process';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import type { RunnerLog } from '../transcode/job-runner.js';
import type { RunningRelay } from './srt-port.js';

/** How long srt-live-transmit waits for a caller after a knock (a port scan, a refused passphrase). */
const CONNECT_WAIT_SECONDS = 10;
/** ffmpeg gives up on an RTMP broadcast that sends nothing for this long (microseconds). */
const RTMP_READ_TIMEOUT_US = '15000000';

export interface RelayTarget {
  srtLiveTransmit: string;
  ffmpegPath: string;
  host: string;
  port: number;
  passphrase: string;
  /** The broadcast on Ministream's RTMP server: where ingest publishes, or what playback plays. */
  rtmpUrl: string;
  log: RunnerLog;
  /** Says who this is, in logs. */
  label: object;
}

function listenUrl(t: RelayTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `srt://${host}:${t.port}?mode=listener&passphrase=${encodeURIComponent(t.passphrase)}`;
}

function srtLiveTransmit(t: RelayTarget, from: string, to: string, stdio: ['ignore' | 'pipe', 'ignore' | 'pipe']) {
  const child = spawn(t.srtLiveTransmit, ['-a:no', `-t:${CONNECT_WAIT_SECONDS}`, '-tm:1', '-ll:error', from, to], { stdio: [stdio[0], stdio[1], 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<{ code: number | null; reason: string }>((resolve) => {
    child.on('error', (err) => resolve({ code: -1, reason: err.message }));
    child.on('close', (code) => resolve({ code, reason: stderr.trim().split('\n').pop() ?? '' }));
  });
  return { child, exited };
}

/** An encoder's SRT stream, republished into the RTMP ingest. */
export function ingestRelay(t: RelayTarget): RunningRelay {
  const { child: srt, exited } = srtLiveTransmit(t, listenUrl(t), 'file://con', ['ignore', 'pipe']);
  const aborter = new AbortController();
  let republish: Promise<void> = Promise.resolve();
  let streamed = false;
  const stdout = srt.stdout!;
  stdout.once('data', (first: Buffer) => {
    streamed = true;
    stdout.pause();
    stdout.unshift(first);
    t.log.info({ ...t.label, port: t.port }, 'srt: encoder connected, relaying into RTMP ingest');
    // -analyzeduration 0.3 s: ffmpeg's default (5 s) held the stream back that long before the
    // RTMP publish (measured: first playable 3.8 s at 1 s, 2.7 s at 0.3 s and at 0.1 s).
    republish = runFfmpeg(
      t.ffmpegPath,
      ['-loglevel', 'error', '-analyzeduration', '300000', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy', '-f', 'flv', t.rtmpUrl],
      { stdin: stdout, signal: aborter.signal },
    ).then(
      () => undefined,
      (err: Error) => {
        if (!aborter.signal.aborted) t.log.warn({ ...t.label, err: err.message }, 'srt: relay into RTMP ingest ended');
      },
    ).finally(() => {
      // RTMP ingest ended the stream (disabled or deleted input, another encoder on it, not H.264...):
      // the caller is cut, as Cloudflare cuts it.
      srt.kill('SIGTERM');
    });
  });
  return {
    done: exited.then(async ({ code, reason }) => {
      await republish;
      if (streamed) t.log.info({ ...t.label, port: t.port }, 'srt: encoder disconnected');
      return { code, streamed, reason };
    }),
    stop: () => {
      aborter.abort();
      srt.kill('SIGTERM');
    },
  };
}

/** The broadcast, played from the RTMP server and sent to one SRT viewer. */
export function playbackRelay(t: RelayTarget): RunningRelay {
  const { child: srt, exited } = srtLiveTransmit(t, 'file://con', listenUrl(t), ['pipe', 'ignore']);
  // The viewer leaving ends srt-live-transmit; ffmpeg then writes into a closed pipe and stops.
  srt.stdin!.on('error', () => undefined);
  const aborter = new AbortController();
  const play = runFfmpeg(
    t.ffmpegPath,
    ['-loglevel', 'error', '-rw_timeout', RTMP_READ_TIMEOUT_US, '-i', t.rtmpUrl, '-map', '0', '-c', 'copy', '-f', 'mpegts', 'pipe:1'],
    { stdout: srt.stdin!, signal: aborter.signal },
  ).then(
    () => undefined,
    () => undefined, // the viewer left (broken pipe), or nothing is live: srt-live-transmit's exit says which
  ).finally(() => srt.kill('SIGTERM'));
  return {
    done: exited.then(async ({ code, reason }) => {
      aborter.abort();
      await play;
      return { code, streamed: ((srt.stdin as { bytesWritten?: number } | null)?.bytesWritten ?? 0) > 0, reason };
    }),
    stop: () => {
      aborter.abort();
      srt.kill('SIGTERM');
    },
  };
}
