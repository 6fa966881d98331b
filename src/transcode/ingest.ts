// Takes a finished upload file, probes it, and turns it into a queued video (or refuses it).
// Shared by every upload path: basic, and later tus, direct creator uploads and copies.
import { rm } from 'node:fs/promises';
import { Errors } from '../errors.js';
import { newUid, nowTimestamp } from '../store/clock.js';
import type { MediaStore } from '../store/media-store.js';
import type { NewVideo, VideoRecord, VideoStore } from '../store/video-types.js';
import { inspectMedia } from './inspect.js';

export interface IngestDeps {
  videos: VideoStore;
  media: MediaStore;
  ffprobePath: string;
}

export interface IngestRequest {
  accountId: string;
  /** The uploaded file, somewhere under the media store's incoming folder. */
  file: string;
  size: number;
  /** Upload options (creator, meta, ...). */
  options?: Omit<NewVideo, 'accountId' | 'state'>;
}

/**
 * Probes `file`. A file that is not a video is deleted and refused at once (400 / 10059, as
 * Cloudflare does since 2023-01-04). A video gets its folder and a row in state `queued`, with
 * duration and input size from the probe, before this resolves.
 */
export async function ingestUpload(deps: IngestDeps, req: IngestRequest): Promise<VideoRecord> {
  const facts = await inspectMedia(deps.ffprobePath, req.file);
  if (facts.kind !== 'video') {
    await rm(req.file, { force: true });
    throw Errors.notAVideo();
  }
  const uid = req.options?.uid ?? newUid();
  const sourceFile = await deps.media.adoptOriginal(uid, req.file);
  try {
    return deps.videos.create({
      ...req.options,
      uid,
      accountId: req.accountId,
      state: 'queued',
      uploaded: nowTimestamp(),
      duration: Math.round(facts.duration * 1000) / 1000,
      inputWidth: facts.width,
      inputHeight: facts.height,
      size: req.size,
      sourceFile,
    });
  } catch (err) {
    await deps.media.removeVideo(uid);
    throw err;
  }
}
