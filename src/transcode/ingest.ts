// Takes a finished upload file, probes it, and turns it into a queued video (or refuses it, or
// marks the video errored). Shared by every upload path: basic, tus, direct creator uploads, copies.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Errors, VideoErrorReasons, type VideoErrorReason } from '../errors.js';
import { newUid, nowTimestamp } from '../store/clock.js';
import type { MediaStore } from '../store/media-store.js';
import type { NewVideo, VideoRecord, VideoStore } from '../store/video-types.js';
import { inspectMedia, type NotAVideo, type VideoFacts } from './inspect.js';
import type { JobQueue } from './job-runner.js';

export interface IngestDeps {
  videos: VideoStore;
  media: MediaStore;
  ffprobePath: string;
  queue: JobQueue;
  /** One SQLite transaction: a video is marked queued and its encode job written together. */
  transaction<T>(fn: () => T): T;
}

/** The job kind that encodes a queued video (see encode-job.ts). */
export const ENCODE_JOB = 'encode';
/** Payload flag of an encode job whose upload was not probed yet (tus): the job settles it (settleProbe). */
export const UNPROBED = 'unprobed';

export interface NewVideoUpload {
  accountId: string;
  /** The uploaded file; it is moved into the video's folder or deleted. */
  file: string;
  size: number;
  /** Upload options (creator, meta, ...). */
  options?: Omit<NewVideo, 'accountId' | 'state'>;
}

/** Cloudflare refuses anything shorter than a tenth of a second. */
const MIN_DURATION_SECONDS = 0.1;

/** What a probe tells about a video, as its record's fields. */
function probedPatch(facts: VideoFacts) {
  return { duration: Math.round(facts.duration * 1000) / 1000, inputWidth: facts.width, inputHeight: facts.height };
}

function factsPatch(facts: VideoFacts, size: number) {
  return { ...probedPatch(facts), size, uploaded: nowTimestamp() };
}

/** What is wrong with a probed video given its upload's constraints, if anything. */
function constraintBroken(facts: VideoFacts, maxDurationSeconds: number | null | undefined): VideoErrorReason | undefined {
  if (facts.duration < MIN_DURATION_SECONDS) return VideoErrorReasons.durationTooShort;
  if (maxDurationSeconds && maxDurationSeconds > 0 && facts.duration > maxDurationSeconds) return VideoErrorReasons.durationExceeded;
  return undefined;
}

/**
 * Basic upload: a file that is not a video is deleted and refused at once (400 / 10059, as
 * Cloudflare does since 2023-01-04). A video gets its folder and a row in state `queued`.
 */
export async function ingestNewVideo(deps: IngestDeps, req: NewVideoUpload): Promise<VideoRecord> {
  const facts = await inspectMedia(deps.ffprobePath, req.file);
  if (facts.kind !== 'video') {
    await rm(req.file, { force: true });
    throw Errors.notAVideo();
  }
  const uid = req.options?.uid ?? newUid();
  const sourceFile = await deps.media.adoptOriginal(uid, req.file);
  try {
    return deps.transaction(() => {
      const video = deps.videos.create({ ...req.options, uid, accountId: req.accountId, state: 'queued', ...factsPatch(facts, req.size), sourceFile });
      deps.queue.enqueue({ kind: ENCODE_JOB, accountId: video.accountId, videoUid: video.uid, payload: { facts } });
      return video;
    });
  } catch (err) {
    await deps.media.removeVideo(uid);
    throw err;
  }
}

export interface PendingUpload {
  video: VideoRecord;
  file: string;
  size: number;
  /** Direct creator uploads refuse a non-video at once; tus and copies end in state `error`. */
  refuseNonVideo: boolean;
  /**
   * Queue the video without probing it first: the encode job probes it (see settleProbe). tus uses
   * it so that the final PATCH is answered without waiting for ffprobe (~90 ms); `duration` and
   * `input` read -1 until the job has looked, as on Cloudflare right after an upload.
   */
  probeInJob?: boolean;
}

/** Marks a video errored with one of Cloudflare's reasons. */
export function failVideo(videos: VideoStore, video: VideoRecord, reason: VideoErrorReason, extra: Partial<VideoRecord> = {}): VideoRecord {
  return videos.update(video.accountId, video.uid, {
    ...extra,
    state: 'error',
    errorReasonCode: reason.code,
    errorReasonText: reason.text,
    readyToStream: false,
  }) ?? video;
}

/** Completes a video that already exists (pendingupload or downloading) with its uploaded file. */
export async function completePendingVideo(deps: IngestDeps, req: PendingUpload): Promise<VideoRecord> {
  const { video } = req;
  if (req.probeInJob && !req.refuseNonVideo) return queueUnprobed(deps, req);
  const facts = await inspectMedia(deps.ffprobePath, req.file);
  if (facts.kind !== 'video') {
    await rm(req.file, { force: true });
    if (req.refuseNonVideo) throw Errors.notAVideo();
    return failVideo(deps.videos, video, VideoErrorReasons.nonVideo, { size: req.size, uploaded: nowTimestamp() });
  }
  const broken = constraintBroken(facts, video.maxDurationSeconds);
  if (broken) {
    // Errored videos take no storage on Cloudflare; their bytes are not kept here either.
    await rm(req.file, { force: true });
    return failVideo(deps.videos, video, broken, factsPatch(facts, req.size));
  }
  const sourceFile = await deps.media.adoptOriginal(video.uid, req.file);
  return deps.transaction(() => {
    const queued = deps.videos.update(video.accountId, video.uid, { state: 'queued', ...factsPatch(facts, req.size), sourceFile });
    if (!queued) return video; // deleted while its bytes were arriving
    deps.queue.enqueue({ kind: ENCODE_JOB, accountId: queued.accountId, videoUid: queued.uid, payload: { facts } });
    return queued;
  });
}

/** The bytes are in: the video is queued with its encode job, which probes it first. */
async function queueUnprobed(deps: IngestDeps, { video, file, size }: PendingUpload): Promise<VideoRecord> {
  const sourceFile = await deps.media.adoptOriginal(video.uid, file);
  return deps.transaction(() => {
    const queued = deps.videos.update(video.accountId, video.uid, { state: 'queued', size, uploaded: nowTimestamp(), sourceFile });
    if (!queued) return video; // deleted while its bytes were arriving
    deps.queue.enqueue({ kind: ENCODE_JOB, accountId: queued.accountId, videoUid: queued.uid, payload: { [UNPROBED]: true } });
    return queued;
  });
}

/**
 * The encode job probed a video queued unprobed: records what it found, or fails the video as the
 * upload would have (not a video, too short, longer than its maxDurationSeconds) and removes its
 * bytes. Returns the video when it can be encoded.
 */
export async function settleProbe(deps: Pick<IngestDeps, 'videos' | 'media'>, video: VideoRecord, facts: VideoFacts | NotAVideo): Promise<VideoRecord | undefined> {
  const fail = async (reason: VideoErrorReason, patch: Partial<VideoRecord>) => {
    // Errored videos take no storage on Cloudflare; their bytes are gone before the error shows.
    if (video.sourceFile) await rm(join(deps.media.videoDir(video.uid), video.sourceFile), { force: true });
    failVideo(deps.videos, video, reason, patch);
    return undefined;
  };
  if (facts.kind !== 'video') return fail(VideoErrorReasons.nonVideo, {});
  const broken = constraintBroken(facts, video.maxDurationSeconds);
  if (broken) return fail(broken, probedPatch(facts));
  return deps.videos.update(video.accountId, video.uid, probedPatch(facts));
}
