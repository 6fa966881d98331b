// The `clip` job: cuts [start, end) out of a source video's original into a new video's original,
// probes it, and hands the new video to the normal `encode` job (queued in the same transaction
// that records the cut). From there a clip is encoded and delivered like any other video.
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VideoErrorReasons } from '../errors.js';
import { nowTimestamp } from '../store/clock.js';
import type { JobRecord } from '../store/job-store.js';
import { ENCODE_JOB } from './encode-job.js';
import { FfmpegError, runFfmpeg } from './ffmpeg.js';
import { failVideo, type IngestDeps } from './ingest.js';
import { inspectMedia } from './inspect.js';
import { JobFailure, type JobHandler } from './job-runner.js';

export const CLIP_JOB = 'clip';

export interface ClipPayload {
  /** The source video's uid and its original's file name inside its media folder. */
  source: string;
  sourceFile: string;
  startTimeSeconds: number;
  endTimeSeconds: number;
}

/**
 * ffmpeg arguments of an accurate cut (pure). Seeking on the input while re-encoding is frame
 * accurate (ffmpeg decodes from the keyframe before `start` and drops what precedes it) and does
 * not decode the whole beginning of a long source. ultrafast: the encode job re-encodes anyway.
 */
export function clipArgs(source: string, payload: ClipPayload, out: string): string[] {
  const duration = payload.endTimeSeconds - payload.startTimeSeconds;
  return [
    '-ss', payload.startTimeSeconds.toFixed(3),
    '-i', source,
    '-t', duration.toFixed(3),
    '-map', '0:v:0',
    '-map', '0:a:0?',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '128k',
    '-movflags', '+faststart',
    '-f', 'mp4', out,
  ];
}

function payloadOf(job: JobRecord): ClipPayload {
  const p = job.payload as Partial<ClipPayload>;
  if (typeof p.source !== 'string' || typeof p.sourceFile !== 'string' || typeof p.startTimeSeconds !== 'number' || typeof p.endTimeSeconds !== 'number') {
    throw new JobFailure(`bad clip job payload: ${JSON.stringify(job.payload)}`, false);
  }
  return p as ClipPayload;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

export interface ClipDeps extends IngestDeps {
  ffmpegPath: string;
  log: { info(obj: object, msg: string): void };
}

export function clipHandler(deps: ClipDeps): JobHandler {
  return async (job, signal) => {
    const payload = payloadOf(job);
    const video = deps.videos.get(job.accountId, job.videoUid);
    // Deleted, failed, or already cut (the encode job has it now).
    if (!video || video.state !== 'queued' || video.sourceFile) return;
    // The source is read when the job runs: a source deleted before that leaves nothing to cut.
    const source = join(deps.media.videoDir(payload.source), payload.sourceFile);
    if (!(await exists(source))) {
      failVideo(deps.videos, video, VideoErrorReasons.unknown);
      throw new JobFailure(`the clip's source ${payload.source} is gone`, false);
    }
    const tmp = deps.media.incomingPath(`clip-${video.uid}.mp4`);
    try {
      await runFfmpeg(deps.ffmpegPath, ['-loglevel', 'error', ...clipArgs(source, payload, tmp)], { signal });
    } catch (err) {
      await rm(tmp, { force: true });
      if (signal.aborted) throw err;
      const stderr = err instanceof FfmpegError ? err.stderrTail.trim().split('\n').slice(-3).join(' | ') : '';
      throw new JobFailure(`ffmpeg failed: ${(err as Error).message}: ${stderr}`, true);
    }
    const facts = await inspectMedia(deps.ffprobePath, tmp);
    if (facts.kind !== 'video') {
      await rm(tmp, { force: true });
      failVideo(deps.videos, video, VideoErrorReasons.malformed);
      throw new JobFailure(`the cut is not a video: ${facts.reason}`, false);
    }
    const size = await deps.media.size(tmp);
    const patch = {
      duration: Math.round(facts.duration * 1000) / 1000,
      inputWidth: facts.width,
      inputHeight: facts.height,
      size,
      uploaded: nowTimestamp(),
    };
    if (video.maxDurationSeconds && facts.duration > video.maxDurationSeconds) {
      await rm(tmp, { force: true });
      failVideo(deps.videos, video, VideoErrorReasons.durationExceeded, patch);
      return;
    }
    const sourceFile = await deps.media.adoptOriginal(video.uid, tmp);
    const queued = deps.transaction(() => {
      const updated = deps.videos.update(video.accountId, video.uid, { ...patch, sourceFile });
      if (updated) deps.queue.enqueue({ kind: ENCODE_JOB, accountId: updated.accountId, videoUid: updated.uid });
      return updated;
    });
    if (!queued) {
      await deps.media.removeVideo(video.uid); // deleted while being cut: leave nothing behind
      return;
    }
    deps.log.info({ uid: video.uid, from: payload.source, seconds: patch.duration }, 'clip: cut, queued for encoding');
  };
}
