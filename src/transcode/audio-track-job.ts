// The `audio-track` job: fetches an extra audio track (copies) and encodes it to AAC in fMP4
// segments on the video's 4-second grid, cut or padded with silence to the video's duration
// (Cloudflare fixes a duration mismatch the same way). ffmpeg's DASH muxer writes an HLS media
// playlist and a DASH manifest over the same segments, as for the video itself; the delivery
// routes add the track to the video's HLS master and DASH manifest (master-playlist.ts).
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { audioTrackDir, type AudioTrackStore } from '../store/audio-track-store.js';
import type { JobRecord } from '../store/job-store.js';
import type { MediaStore } from '../store/media-store.js';
import type { VideoStore } from '../store/video-types.js';
import { FfmpegError, ffprobe, runFfmpeg } from './ffmpeg.js';
import { JobFailure, type GiveUpHandler, type JobHandler } from './job-runner.js';
import { SEGMENT_SECONDS } from './ladder.js';
import { MAX_SOURCE_BYTES, fetchToFile } from './url-importer.js';

export const AUDIO_TRACK_JOB = 'audio-track';

/** Names inside <media>/<video uid>/audio/<track uid>/. */
export const AUDIO_TRACK_FILES = {
  /** The uploaded or downloaded file, removed once encoded. */
  source: 'source',
  /** What delivery serves: the playlist, the manifest, the init and media segments. */
  dir: 'stream',
  playlist: 'media_0.m3u8',
  manifest: 'manifest.mpd',
} as const;

export interface AudioTrackJobPayload {
  trackUid: string;
}

export interface AudioTrackDeps {
  videos: VideoStore;
  tracks: AudioTrackStore;
  media: MediaStore;
  ffmpegPath: string;
  ffprobePath: string;
  log: { info(obj: object, msg: string): void };
}

/** Pure: the ffmpeg arguments that turn `input` into the track's segments in `outDir`. */
export function audioTrackArgs(input: string, outDir: string, durationSeconds: number): string[] {
  return [
    '-i', input,
    '-map', '0:a:0', '-vn',
    // Padded with silence, then cut: exactly the video's length either way.
    '-af', 'apad', '-t', durationSeconds.toFixed(3),
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-ar', '48000',
    '-f', 'dash',
    '-seg_duration', String(SEGMENT_SECONDS),
    '-use_template', '1',
    '-use_timeline', '0',
    '-hls_playlist', '1',
    '-adaptation_sets', 'id=0,streams=a',
    '-init_seg_name', 'init.m4s',
    '-media_seg_name', 'chunk-$Number%05d$.m4s',
    join(outDir, AUDIO_TRACK_FILES.manifest),
  ];
}

export function audioTrackHandler(deps: AudioTrackDeps): JobHandler {
  return async (job: JobRecord, signal: AbortSignal) => {
    const { trackUid } = job.payload as unknown as AudioTrackJobPayload;
    const track = deps.tracks.get(job.videoUid, trackUid);
    const video = deps.videos.get(job.accountId, job.videoUid);
    if (!track || track.status !== 'queued' || !video) return; // deleted meanwhile
    const dir = audioTrackDir(deps.media.videoDir(video.uid), track.uid);
    const source = join(dir, AUDIO_TRACK_FILES.source);
    await mkdir(dir, { recursive: true });

    if (track.sourceUrl && !(await exists(source))) {
      const partial = `${source}.part`;
      try {
        await fetchToFile(track.sourceUrl, partial, MAX_SOURCE_BYTES, signal);
      } catch (err) {
        await rm(partial, { force: true });
        if (signal.aborted) throw err;
        throw new JobFailure(`audio track fetch failed: ${(err as Error).message}`, true);
      }
      await rename(partial, source);
    }

    const probe = await ffprobe(deps.ffprobePath, source, { signal }).catch(() => undefined);
    if (!probe?.streams.some((s) => s.codec_type === 'audio')) {
      deps.tracks.finish(track.uid, 'error', 'the file has no audio stream');
      await rm(source, { force: true });
      return;
    }
    if (!(video.duration > 0)) throw new JobFailure('the video has no duration yet', false);

    const tmp = join(dir, `${AUDIO_TRACK_FILES.dir}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      await runFfmpeg(deps.ffmpegPath, ['-loglevel', 'error', ...audioTrackArgs(source, tmp, video.duration)], { signal });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (signal.aborted) throw err;
      const stderr = err instanceof FfmpegError ? err.stderrTail.trim().split('\n').slice(-3).join(' | ') : '';
      throw new JobFailure(`ffmpeg failed: ${(err as Error).message}: ${stderr}`, true);
    }
    const final = join(dir, AUDIO_TRACK_FILES.dir);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    await rm(source, { force: true });
    if (!deps.tracks.finish(track.uid, 'ready')) {
      // Deleted while encoding (the track, or its whole video): leave nothing behind.
      if (deps.videos.get(video.accountId, video.uid)) await rm(dir, { recursive: true, force: true });
      else await deps.media.removeVideo(video.uid);
      return;
    }
    deps.log.info({ uid: video.uid, track: track.uid, label: track.label }, 'audio track: ready');
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** After the last attempt the track ends in `error`. */
export function audioTrackGaveUp(tracks: AudioTrackStore): GiveUpHandler {
  return (job, error) => {
    const { trackUid } = job.payload as unknown as AudioTrackJobPayload;
    tracks.finish(trackUid, 'error', error.message);
  };
}
