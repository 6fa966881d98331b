// What the sub-resources of a video (captions, audio tracks) share: the video they belong to,
// looked up in the caller's account, with Cloudflare's 400 for a malformed uid and 404 for an unknown one.
import { Errors } from '../errors.js';
import { UID_PATTERN } from '../store/clock.js';
import type { VideoRecord, VideoStore } from '../store/video-types.js';

export function findVideo(videos: VideoStore, accountId: string, identifier: string): VideoRecord {
  if (!UID_PATTERN.test(identifier)) throw Errors.invalidVideoId();
  const video = videos.get(accountId, identifier);
  if (!video) throw Errors.videoNotFound();
  return video;
}
