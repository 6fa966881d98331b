// Live instant clips (Cloudflare: /<video id>/manifest/clip.m3u8?time=600s&duration=30s and
// /<video id>/clip.mp4?...): a window of a broadcast that is on, taken from its recorded segments
// (segment-index.ts). No library entry, no storage: the playlist names the live segments, the MP4
// is cut by stream copy into a temporary file that goes once it is sent.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import { readSegmentIndex, segmentsFor, type IndexedSegment } from './segment-index.js';

/** Cloudflare: a clip is at most 60 s long. */
export const MAX_CLIP_SECONDS = 60;

export type ClipWindow = { segments: IndexedSegment[]; offset: number } | { error: string };

/** The segments of a clip from `time` for `duration` seconds, and where in the first one it starts; the window must be recorded. */
export async function clipWindow(liveDir: string, time: number, duration: number): Promise<ClipWindow> {
  const index = await readSegmentIndex(liveDir);
  const recorded = index.reduce((sum, s) => sum + s.duration, 0);
  // A window not yet recorded whole is refused rather than cut short: ask again a little later.
  if (time + duration > recorded + 0.001) {
    return { error: `the clip ends past what the broadcast has recorded so far (${recorded.toFixed(1)} s)` };
  }
  const segments = segmentsFor(index, time, duration);
  const first = segments[0];
  if (!first) return { error: `the clip ends past what the broadcast has recorded so far (${recorded.toFixed(1)} s)` };
  return { segments, offset: Math.max(0, time - first.start) };
}

/**
 * Cuts the window into an MP4 at `out` by stream copy (it starts at the keyframe at or before
 * `time`, as any copy cut does). The caller removes `out`.
 */
export async function cutClipMp4(ffmpegPath: string, liveDir: string, window: { segments: IndexedSegment[]; offset: number }, duration: number, out: string): Promise<void> {
  const list = `${out}.txt`;
  await writeFile(list, window.segments.map((s) => `file '${join(liveDir, s.name)}'\n`).join(''));
  try {
    await runFfmpeg(ffmpegPath, [
      '-loglevel', 'error',
      '-ss', window.offset.toFixed(3), '-t', duration.toFixed(3),
      '-f', 'concat', '-safe', '0', '-i', list,
      '-map', '0', '-c', 'copy', '-avoid_negative_ts', 'make_zero', '-movflags', '+faststart', '-f', 'mp4', out,
    ], { timeoutMs: 60_000 });
  } finally {
    await rm(list, { force: true });
  }
}
