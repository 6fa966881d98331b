// Turns a stored video into the video object of Cloudflare's API, with absolute URLs on this server.
// Deliberate difference: Cloudflare's URLs point at customer-<CODE>.cloudflarestream.com/<uid>/...;
// ours keep the same paths on Ministream's own origin (--public-url, else the request's Host).
import type { FastifyRequest } from 'fastify';
import type { VideoRecord } from '../store/video-types.js';
import type { VideoJson } from './schemas/video.js';

/** The origin put into returned URLs. */
export function publicOrigin(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured;
  return `${request.protocol}://${request.host}`;
}

export function deliveryUrls(origin: string, uid: string) {
  return {
    playback: { hls: `${origin}/${uid}/manifest/video.m3u8`, dash: `${origin}/${uid}/manifest/video.mpd` },
    preview: `${origin}/${uid}/watch`,
    thumbnail: `${origin}/${uid}/thumbnails/thumbnail.jpg`,
    iframe: `${origin}/${uid}/iframe`,
  };
}

/** The profile object as the video shows it: without the image's path on disk. */
export function presentWatermark(w: NonNullable<VideoRecord['watermark']>): Record<string, unknown> {
  const { file: _file, ...shown } = w;
  return shown;
}

export function presentVideo(v: VideoRecord, origin: string): VideoJson {
  const urls = deliveryUrls(origin, v.uid);
  return {
    allowedOrigins: v.allowedOrigins,
    clippedFrom: v.clippedFrom,
    created: v.created,
    creator: v.creator,
    duration: v.duration,
    input: { height: v.inputHeight, width: v.inputWidth },
    liveInput: v.liveInput,
    maxDurationSeconds: v.maxDurationSeconds,
    maxSizeBytes: v.maxSizeBytes,
    meta: v.meta,
    modified: v.modified,
    playback: urls.playback,
    preview: urls.preview,
    publicDetails: v.publicDetails,
    readyToStream: v.readyToStream,
    readyToStreamAt: v.readyToStreamAt,
    requireSignedURLs: v.requireSignedURLs,
    scheduledDeletion: v.scheduledDeletion,
    size: v.size,
    status: {
      state: v.state,
      // A string, as Cloudflare sends it ("39.000000").
      pctComplete: v.pctComplete.toFixed(6),
      errorReasonCode: v.errorReasonCode,
      errorReasonText: v.errorReasonText,
    },
    thumbnail: urls.thumbnail,
    thumbnailTimestampPct: v.thumbnailTimestampPct,
    uid: v.uid,
    uploadExpiry: v.uploadExpiry,
    uploaded: v.uploaded,
    watermark: v.watermark ? presentWatermark(v.watermark) : null,
  };
}
