// The live transcoder: ONE ffmpeg per broadcast plays the input's stream from the RTMP server and
// writes a live HLS ladder into the live video's folder: the source as pushed (stream-copied, so it
// costs nothing and adds no delay) plus one lower rung (decoded, scaled, libx264 with keyframes
// where the source has them, so that both rungs cut their segments at the same times).
// Segments are MPEG-TS of LIVE_SEGMENT_SECONDS (the source's GOP permitting), as Cloudflare's live
// HLS; playlists slide over the last LIVE_PLAYLIST_SIZE segments, but every segment stays on disk:
// the top rung's segments, in order, are the recording (recording.ts).
import { readdir } from 'node:fs/promises';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import { LADDER, type Rung } from '../transcode/ladder.js';

/** Names inside <media>/<video uid>/: the live folder and its master playlist. */
export const LIVE_FILES = { dir: 'live', master: 'master.m3u8', dash: 'video.mpd' } as const;
export const LIVE_SEGMENT_SECONDS = 2;
/** Segments a live playlist lists (20 s): enough for players to start a few segments back. */
export const LIVE_PLAYLIST_SIZE = 10;
/** The only names delivery serves from a live folder: the variants' playlists and segments, the DASH segments. */
export const LIVE_FILE_NAME = /^(v\d+(-\d+)?\.(m3u8|ts)|dash-(init|\d+)-\d+(-\d+)?\.m4s)$/;
/** The lower rungs a live ladder may add below the source (by short side). */
const LOWER_RUNGS = [360, 240];
/** ffmpeg gives up reading the RTMP server after this long without data (microseconds). */
const READ_TIMEOUT_US = 15_000_000;

export interface LiveRung extends Rung {
  /** The source itself, stream-copied. */
  copy: boolean;
}

/** The source, plus the largest of 360p/240p strictly below it (none below 240p or when the size is unknown). */
export function planLiveLadder(width: number, height: number): LiveRung[] {
  const top: LiveRung = { name: Math.min(width, height), width, height, kbps: 0, copy: true };
  const short = Math.min(width, height);
  const lower = LOWER_RUNGS.find((name) => name < short);
  if (!lower || width <= 0 || height <= 0) return [top];
  const portrait = height > width;
  const long = 2 * Math.round((Math.max(width, height) * lower) / short / 2);
  const kbps = LADDER.find((r) => r.name === lower)!.kbps;
  return [top, { name: lower, width: portrait ? lower : long, height: portrait ? long : lower, kbps, copy: false }];
}

/** The ffmpeg arguments: one input, every rung, one HLS muxer with a master playlist. */
export function liveTranscodeArgs(source: string, outDir: string, rungs: LiveRung[], hasAudio: boolean): string[] {
  const encoded = rungs.map((r, i) => ({ r, i })).filter(({ r }) => !r.copy);
  const filters = encoded.map(({ r, i }) => `[0:v:0]scale=${r.width}:${r.height}[v${i}]`);
  const perRung = rungs.flatMap((r, i) =>
    r.copy
      ? [`-c:v:${i}`, 'copy']
      : [`-c:v:${i}`, 'libx264', `-b:v:${i}`, `${r.kbps}k`, `-maxrate:v:${i}`, `${Math.round(r.kbps * 1.1)}k`, `-bufsize:v:${i}`, `${r.kbps}k`],
  );
  return [
    '-loglevel', 'error',
    '-rw_timeout', String(READ_TIMEOUT_US),
    '-i', source,
    ...(filters.length ? ['-filter_complex', filters.join(';')] : []),
    ...rungs.flatMap((r, i) => ['-map', r.copy ? '0:v:0' : `[v${i}]`]),
    ...(hasAudio ? rungs.flatMap(() => ['-map', '0:a:0']) : []),
    ...perRung,
    ...(encoded.length ? ['-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-force_key_frames', 'source', '-sc_threshold', '0'] : []),
    ...(hasAudio ? ['-c:a', 'copy'] : []),
    '-f', 'hls',
    '-hls_time', String(LIVE_SEGMENT_SECONDS),
    '-hls_list_size', String(LIVE_PLAYLIST_SIZE),
    // append_list: a reconnect continues the same playlists and numbering (after a DISCONTINUITY);
    // omit_endlist: a stop is not the end of the broadcast (the encoder may come back);
    // program_date_time: players (and the latency test) map segments to wall-clock time;
    // temp_file: playlists and segments appear whole (written aside, then renamed).
    '-hls_flags', 'independent_segments+append_list+omit_endlist+program_date_time+temp_file',
    '-var_stream_map', rungs.map((_, i) => (hasAudio ? `v:${i},a:${i}` : `v:${i}`)).join(' '),
    '-master_pl_name', LIVE_FILES.master,
    '-hls_segment_filename', `${outDir}/v%v-%05d.ts`,
    `${outDir}/v%v.m3u8`,
    // A second output of the same process: live DASH (fMP4) of the stream as pushed, copied (the
    // lower rung's encode cannot feed two muxers); the broadcast's playback.dash.
    '-map', '0:v:0', ...(hasAudio ? ['-map', '0:a:0'] : []),
    '-c', 'copy',
    '-f', 'dash',
    '-seg_duration', String(LIVE_SEGMENT_SECONDS),
    '-window_size', String(LIVE_PLAYLIST_SIZE),
    '-extra_window_size', String(LIVE_PLAYLIST_SIZE),
    '-use_template', '1',
    '-use_timeline', '1',
    '-adaptation_sets', hasAudio ? 'id=0,streams=v id=1,streams=a' : 'id=0,streams=v',
    '-init_seg_name', 'dash-init-$RepresentationID$.m4s',
    '-media_seg_name', 'dash-$RepresentationID$-$Number%05d$.m4s',
    `${outDir}/${LIVE_FILES.dash}`,
  ];
}

/** The top rung's segments in recording order (their numbers go on across reconnects). */
export async function recordedSegments(liveDir: string): Promise<string[]> {
  const names = await readdir(liveDir).catch(() => [] as string[]);
  return names
    .map((name) => ({ name, m: /^v0-(\d+)\.ts$/.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
    .map((e) => e.name);
}

export interface RunningTranscoder {
  /** Settles when ffmpeg has exited (the stream ended, or it was stopped). */
  done: Promise<void>;
  /** Kills ffmpeg (the stream's end normally stops it first, with everything flushed). */
  stop(): void;
}

export interface TranscoderOptions {
  ffmpegPath: string;
  source: string;
  outDir: string;
  rungs: LiveRung[];
  hasAudio: boolean;
  onError(err: Error): void;
}

export function startLiveTranscoder(opts: TranscoderOptions): RunningTranscoder {
  const controller = new AbortController();
  const done = runFfmpeg(opts.ffmpegPath, liveTranscodeArgs(opts.source, opts.outDir, opts.rungs, opts.hasAudio), { signal: controller.signal }).then(
    () => undefined,
    (err: Error) => {
      if (!controller.signal.aborted) opts.onError(err);
    },
  );
  return { done, stop: () => controller.abort() };
}
