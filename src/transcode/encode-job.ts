// The `encode` job: turns a video's original into the HLS + DASH ladder, with the real lifecycle:
// queued -> inprogress (pctComplete from ffmpeg's progress) -> ready, or error with Cloudflare's reason.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoErrorReasons } from '../errors.js';
import { nowTimestamp } from '../store/clock.js';
import type { JobRecord } from '../store/job-store.js';
import type { MediaStore } from '../store/media-store.js';
import type { VideoStore } from '../store/video-types.js';
import { FfmpegError, runFfmpeg } from './ffmpeg.js';
import { failVideo, settleProbe, UNPROBED } from './ingest.js';
import { inspectMedia, type VideoFacts } from './inspect.js';
import { JobFailure, type JobHandler, type GiveUpHandler } from './job-runner.js';
import { planEncode, type X264Preset } from './ladder.js';
import type { HoldGate } from '../control/holds.js';
import { progressLogger } from '../control/progress-log.js';

export { ENCODE_JOB } from './ingest.js';

/** Names inside <media>/<uid>/stream/: what the delivery routes serve. */
export const STREAM_FILES = { dir: 'stream', manifest: 'manifest.mpd', master: 'master.m3u8', ladder: 'ladder.json' } as const;

export interface EncodeDeps {
  videos: VideoStore;
  media: MediaStore;
  ffmpegPath: string;
  ffprobePath: string;
  mode: 'full' | 'fast';
  preset: X264Preset;
  log: { info(obj: object, msg: string): void };
  /** Control API holds (src/control/holds.ts): where the job would mark a video ready, it waits while held. */
  holds?: HoldGate;
}

/** ffmpeg's stderr lines that mean the input itself is broken, not the process. */
const MALFORMED = /Invalid data found|moov atom not found|corrupt|error while decoding|Invalid NAL|partial file|End of file/i;

/** Facts stored in a job's payload, if they are whole. */
function probedFacts(value: unknown): VideoFacts | undefined {
  const f = value as Partial<VideoFacts> | undefined;
  const whole = f?.kind === 'video' && typeof f.duration === 'number' && typeof f.width === 'number' && typeof f.height === 'number'
    && typeof f.videoCodec === 'string' && typeof f.rotation === 'number';
  return whole ? (f as VideoFacts) : undefined;
}

export function encodeHandler(deps: EncodeDeps): JobHandler {
  return async (job: JobRecord, signal: AbortSignal) => {
    const video = deps.videos.get(job.accountId, job.videoUid);
    if (!video || video.state === 'error' || !video.sourceFile) return; // deleted or failed meanwhile
    const dir = deps.media.videoDir(video.uid);
    const source = join(dir, video.sourceFile);
    // The upload's probe travels with the job (saves ~80 ms of ffprobe per encode); jobs queued
    // without it (tus uploads, clips, recordings) probe here.
    const carried = probedFacts(job.payload.facts);
    const probed = carried ?? (await inspectMedia(deps.ffprobePath, source));
    // Control API: a video failed on purpose (or deleted) while it was probed keeps that outcome.
    const current = deps.videos.get(video.accountId, video.uid);
    if (!current || current.state === 'error') return;
    // A tus upload queued unprobed gets its duration and size now, or fails as its upload would have.
    if (job.payload[UNPROBED] === true && !(await settleProbe(deps, current, probed))) return;
    if (probed.kind !== 'video') {
      failVideo(deps.videos, video, VideoErrorReasons.nonVideo);
      return;
    }
    const facts = probed;
    deps.videos.update(video.accountId, video.uid, { state: 'inprogress', pctComplete: 0 });

    const tmp = join(dir, `${STREAM_FILES.dir}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const wm = video.watermark;
    const plan = planEncode(source, tmp, facts, {
      watermark: wm ? { image: join(deps.media.watermarksDir, wm.file), opacity: wm.opacity, padding: wm.padding, scale: wm.scale, position: wm.position } : undefined,
      mode: deps.mode,
      preset: deps.preset,
      manifestName: STREAM_FILES.manifest,
      masterName: STREAM_FILES.master,
    });
    let lastPct = 0;
    const logProgress = progressLogger(deps.log, 'encode: progress', { uid: video.uid }); // info, every 25 % or few seconds
    try {
      const stderr = await runFfmpeg(deps.ffmpegPath, ['-loglevel', 'error', ...plan.args], {
        signal,
        onProgress: (seconds) => {
          // Whole percents only, and never 100 before the manifests are in place.
          const pct = Math.min(99, Math.floor((seconds / facts.duration) * 100));
          if (pct > lastPct) {
            lastPct = pct;
            deps.videos.update(video.accountId, video.uid, { pctComplete: pct });
            logProgress(pct);
          }
        },
      });
      // ffmpeg exits 0 on a file whose data ends early: it encodes what it could read. Stream
      // calls that a malformed video, so do we.
      if (MALFORMED.test(stderr)) throw new FfmpegError('the input is damaged', 0, stderr);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (signal.aborted) throw err;
      const stderr = err instanceof FfmpegError ? err.stderrTail : '';
      if (err instanceof FfmpegError && err.exitCode !== null && MALFORMED.test(stderr)) {
        failVideo(deps.videos, video, VideoErrorReasons.malformed);
        throw new JobFailure(`malformed input: ${stderr.trim().split('\n').pop()}`, false);
      }
      throw new JobFailure(`ffmpeg failed: ${(err as Error).message}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`, true);
    }
    await writeFile(join(tmp, STREAM_FILES.ladder), JSON.stringify({ rungs: plan.rungs, copy: plan.copy, hasAudio: facts.audioCodec !== null }));
    // Control API: a held video stays `inprogress` here until released; one failed on purpose
    // (POST /_ministream/videos/:uid/fail) or deleted (reset) meanwhile keeps that outcome.
    await deps.holds?.waitWhileHeld(video.uid, signal);
    const settled = deps.videos.get(video.accountId, video.uid);
    if (!settled || settled.state === 'error') {
      await (settled ? rm(tmp, { recursive: true, force: true }) : deps.media.removeVideo(video.uid));
      return;
    }
    // The finished stream replaces any earlier one in one rename, so delivery never sees half of it.
    const final = join(dir, STREAM_FILES.dir);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    const ready = deps.videos.update(video.accountId, video.uid, {
      state: 'ready',
      pctComplete: 100,
      readyToStream: true,
      readyToStreamAt: nowTimestamp(),
    });
    if (!ready) {
      await deps.media.removeVideo(video.uid); // deleted while encoding: leave nothing behind
      return;
    }
    deps.log.info({ uid: video.uid, rungs: plan.rungs.map((r) => `${r.width}x${r.height}`), copy: plan.copy }, 'encode: ready');
  };
}

/** After the last attempt, the video ends in `error` (ERR_UNKNOWN unless the handler said why). */
export function encodeGaveUp(videos: VideoStore): GiveUpHandler {
  return (job) => {
    const video = videos.get(job.accountId, job.videoUid);
    if (video && video.state !== 'error') failVideo(videos, video, VideoErrorReasons.unknown);
  };
}
