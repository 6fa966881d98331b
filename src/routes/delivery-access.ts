// Who may receive a video's bytes: the one gate every delivery route (manifests, segments,
// thumbnails, player pages, downloads) goes through. Delivery paths name a video by uid alone.
// (Signed tokens and allowed origins arrive with the access-control issue and plug in here.)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';
import { UID_PATTERN } from '../store/clock.js';
import type { VideoRecord } from '../store/video-types.js';

export interface DeliveryNeeds {
  /** Manifests and segments need the encode to be done; thumbnails only need the upload. */
  ready: boolean;
}

export function deliverableVideo(app: FastifyInstance, _request: FastifyRequest, id: string, needs: DeliveryNeeds): VideoRecord {
  const video = UID_PATTERN.test(id) ? app.ministream.videos.findByUid(id) : undefined;
  if (!video) throw Errors.deliveryNotFound();
  if (video.state === 'error') throw Errors.deliveryErrored();
  if (needs.ready ? !video.readyToStream : !video.sourceFile) throw Errors.deliveryNotReady();
  return video;
}
