// Who may receive a video's bytes: the one gate every delivery route (manifests, segments,
// thumbnails, player pages, downloads) goes through. Delivery paths name a video by its uid, or by
// a signed token standing where the uid would be. Videos with requireSignedURLs take tokens only;
// videos with allowedOrigins answer only pages of those origins. Refusals say why in the log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hostOf, originAllowed } from '../access/origins.js';
import { TokenRefusal, unverifiedSubject, verifyToken, type TokenGrant } from '../access/tokens.js';
import { Errors } from '../errors.js';
import { UID_PATTERN } from '../store/clock.js';
import type { VideoRecord } from '../store/video-types.js';
import type { LiveInputRecord } from '../store/live-input-store.js';
import { publicOrigin } from './present-video.js';

export interface DeliveryNeeds {
  /** Manifests and segments need the encode to be done; thumbnails only need the upload. */
  ready: boolean;
  /** MP4 downloads need a token with downloadable: true when the video requires signed URLs. */
  download?: boolean;
}

/** The viewer's country, as Cloudflare's edge reports it (tests set it themselves). */
const COUNTRY_HEADER = 'cf-ipcountry';

/** Verifies a token standing in a delivery path; refusals become the catalogue's answers and a log line. */
export async function grantFor(app: FastifyInstance, request: FastifyRequest, token: string): Promise<TokenGrant> {
  const country = request.headers[COUNTRY_HEADER];
  try {
    return await verifyToken(app.ministream.keys, token, {
      ip: request.ip,
      country: typeof country === 'string' && country ? country.toUpperCase() : undefined,
    });
  } catch (err) {
    if (err instanceof TokenRefusal) {
      request.log.info({ reason: err.message }, 'delivery refused: token');
      if (err.kind === 'shape') throw Errors.deliveryNotFound();
      throw err.kind === 'rule' ? Errors.tokenForbidden() : Errors.tokenInvalid();
    }
    throw err;
  }
}

/**
 * The page that asked, by Origin or else Referer. Requests from Ministream's own pages (the iframe
 * player fetching its manifest and segments) pass: the embedding page was checked when the player
 * itself was requested, as on Cloudflare, whose player lives on Cloudflare's own host.
 */
export function originPasses(request: FastifyRequest, allowedOrigins: string[], ownOrigin: string): boolean {
  if (allowedOrigins.length === 0) return true;
  const origin = request.headers.origin ?? request.headers.referer;
  const host = typeof origin === 'string' ? hostOf(origin) : undefined;
  if (host === undefined) return false;
  if (host === hostOf(ownOrigin)) return true;
  return originAllowed(allowedOrigins, host);
}

export async function deliverableVideo(app: FastifyInstance, request: FastifyRequest, id: string, needs: DeliveryNeeds): Promise<VideoRecord> {
  const { videos, config } = app.ministream;
  let video: VideoRecord | undefined;
  if (UID_PATTERN.test(id)) {
    video = videos.findByUid(id);
    if (video?.requireSignedURLs) {
      request.log.info({ uid: id }, 'delivery refused: the video requires a signed URL');
      throw Errors.signedUrlRequired();
    }
  } else {
    const grant = await grantFor(app, request, id);
    video = videos.findByUid(grant.videoUid);
    // A key signs only for its own account's videos.
    if (video && video.accountId !== grant.accountId) video = undefined;
    if (video && needs.download && video.requireSignedURLs && !grant.downloadable) throw Errors.downloadForbidden();
  }
  if (!video) throw Errors.deliveryNotFound();
  if (!originPasses(request, video.allowedOrigins, publicOrigin(request, config.publicUrl))) {
    request.log.info({ uid: video.uid, origin: request.headers.origin ?? request.headers.referer ?? null }, 'delivery refused: origin not allowed');
    throw Errors.originForbidden();
  }
  if (video.state === 'error') throw Errors.deliveryErrored();
  if (needs.ready ? !video.readyToStream : !video.sourceFile) throw Errors.deliveryNotReady();
  return video;
}

/**
 * A live input named on a delivery path (by its uid, or by a signed token for it), once its
 * recording.requireSignedURLs and allowedOrigins let this request in. Used for an input with
 * nothing live on it (a broadcast that is on is served by live-delivery.ts: Cloudflare answers its
 * manifest with 204 "Stream has not yet started" and its player waits) and for WHEP playback.
 * undefined: the id names no input, and delivery goes on as for videos.
 */
export async function deliverableLiveInput(app: FastifyInstance, request: FastifyRequest, id: string): Promise<LiveInputRecord | undefined> {
  const { liveInputs, config } = app.ministream;
  let input: LiveInputRecord | undefined;
  let signed = false;
  if (UID_PATTERN.test(id)) {
    input = liveInputs.findByUid(id);
  } else {
    // Only a token whose sub is an input goes this way; others are the video gate's to verify.
    const sub = unverifiedSubject(id);
    if (sub === undefined || !liveInputs.findByUid(sub)) return undefined;
    const grant = await grantFor(app, request, id);
    input = liveInputs.findByUid(grant.videoUid);
    if (input && input.accountId !== grant.accountId) input = undefined;
    if (!input) throw Errors.deliveryNotFound();
    signed = true;
  }
  if (!input) return undefined;
  if (input.recording.requireSignedURLs && !signed) throw Errors.signedUrlRequired();
  if (!originPasses(request, input.recording.allowedOrigins ?? [], publicOrigin(request, config.publicUrl))) throw Errors.originForbidden();
  return input;
}
