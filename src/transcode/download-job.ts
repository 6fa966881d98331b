// The `download` job: makes a video's MP4 (`default`) or M4A (`audio`) download by remuxing the
// finished stream, without encoding again: the top video representation plus the audio one are
// read through their HLS media playlists (init + fMP4 segments) and copied into one file with
// +faststart (shared/reference/ffmpeg-bench.md, g_mp4_remux_from_hls_1080p_rung: ~0.07 s).
import { renameSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { JobRecord } from '../store/job-store.js';
import type { MediaStore } from '../store/media-store.js';
import { downloadFile, DOWNLOAD_TYPES, type DownloadStore, type DownloadType } from '../store/download-store.js';
import type { VideoStore } from '../store/video-types.js';
import { STREAM_FILES } from './encode-job.js';
import { FfmpegError, runFfmpeg } from './ffmpeg.js';
import { JobFailure, type GiveUpHandler, type JobHandler } from './job-runner.js';
import { progressLogger } from '../control/progress-log.js';

export const DOWNLOAD_JOB = 'download';

/** What the encode job records next to the stream (encode-job.ts writes ladder.json). */
export interface StreamLadder {
  rungs: unknown[];
  copy: boolean;
  hasAudio: boolean;
}

/** The ladder of a finished stream, or undefined when there is none (yet). */
export async function readLadder(media: MediaStore, uid: string): Promise<StreamLadder | undefined> {
  try {
    return JSON.parse(await readFile(join(media.videoDir(uid), STREAM_FILES.dir, STREAM_FILES.ladder), 'utf8')) as StreamLadder;
  } catch {
    return undefined;
  }
}

/**
 * ffmpeg's inputs and maps for one download type (pure). Representation 0 is the top video rung;
 * the audio representation, when there is one, comes after every video rung. The dash muxer names
 * each representation's HLS playlist media_<N>.m3u8.
 */
export function remuxArgs(streamDir: string, ladder: StreamLadder, type: DownloadType, out: string): string[] {
  const playlist = (n: number) => join(streamDir, `media_${n}.m3u8`);
  const audio = playlist(ladder.rungs.length);
  const inputs =
    type === 'audio'
      ? ['-i', audio, '-map', '0:a:0']
      : ['-i', playlist(0), ...(ladder.hasAudio ? ['-i', audio, '-map', '0:v:0', '-map', '1:a:0'] : ['-map', '0:v:0'])];
  // .m4a is the ipod muxer's (an MP4 with the M4A brand); the download is written under a
  // temporary name, so the format is named, not guessed from the extension.
  return [...inputs, '-c', 'copy', '-movflags', '+faststart', '-f', type === 'audio' ? 'ipod' : 'mp4', out];
}

export interface DownloadDeps {
  videos: VideoStore;
  downloads: DownloadStore;
  media: MediaStore;
  ffmpegPath: string;
  log: { info(obj: object, msg: string): void };
}

/** What a download job carries: the type, and the `created` of the download it was queued for. */
function payloadOf(job: JobRecord): { type: DownloadType; created: string } {
  const { type, created } = job.payload;
  if (!DOWNLOAD_TYPES.includes(type as DownloadType) || typeof created !== 'string') {
    throw new JobFailure(`bad download job payload: ${JSON.stringify(job.payload)}`, false);
  }
  return { type: type as DownloadType, created };
}

export function downloadHandler(deps: DownloadDeps): JobHandler {
  return async (job, signal) => {
    const { type, created } = payloadOf(job);
    const isCurrent = () => deps.downloads.get(job.videoUid, type)?.created === created;
    // Deleted, re-created (a newer job makes it) or the video is gone (its rows went with it).
    if (!isCurrent()) return;
    const video = deps.videos.get(job.accountId, job.videoUid);
    const ladder = video?.readyToStream ? await readLadder(deps.media, job.videoUid) : undefined;
    if (!video || !ladder) throw new JobFailure('the video has no finished stream to download', false);
    if (type === 'audio' && !ladder.hasAudio) throw new JobFailure('the video has no audio track', false);

    const out = downloadFile(deps.media, video.uid, type);
    // Per job, so two jobs of one download (re-created meanwhile) never write the same file.
    const tmp = `${out}.${job.id}.tmp`;
    await mkdir(dirname(out), { recursive: true });
    const streamDir = join(deps.media.videoDir(video.uid), STREAM_FILES.dir);
    let lastPct = 0;
    const logProgress = progressLogger(deps.log, 'download: progress', { uid: video.uid, type }); // info, every 25 % or few seconds
    try {
      await runFfmpeg(deps.ffmpegPath, ['-loglevel', 'error', ...remuxArgs(streamDir, ladder, type, tmp)], {
        signal,
        onProgress: (seconds) => {
          // Whole percents, never 100 before the file is in place.
          const pct = Math.min(99, Math.floor((seconds / Math.max(video.duration, 0.001)) * 100));
          if (pct > lastPct) {
            lastPct = pct;
            deps.downloads.progress(video.uid, type, created, { percentComplete: pct });
            logProgress(pct);
          }
        },
      });
    } catch (err) {
      await rm(tmp, { force: true });
      if (signal.aborted) throw err;
      const stderr = err instanceof FfmpegError ? err.stderrTail.trim().split('\n').slice(-3).join(' | ') : '';
      throw new JobFailure(`ffmpeg failed: ${(err as Error).message}: ${stderr}`, true);
    }
    // Checked, moved into place and marked ready in one turn of the event loop (renameSync), so
    // a DELETE of the download cannot fall between: either it sees the file or the job sees no row.
    if (!isCurrent()) {
      await rm(tmp, { force: true });
      return;
    }
    renameSync(tmp, out);
    deps.downloads.progress(video.uid, type, created, { status: 'ready', percentComplete: 100 });
    deps.log.info({ uid: video.uid, type }, 'download: ready');
  };
}

/** After the last attempt the download reports status `error` (the video itself is unaffected). */
export function downloadGaveUp(downloads: DownloadStore): GiveUpHandler {
  return (job) => {
    const { type, created } = job.payload;
    if (typeof type === 'string' && typeof created === 'string') {
      downloads.progress(job.videoUid, type as DownloadType, created, { status: 'error' });
    }
  };
}
