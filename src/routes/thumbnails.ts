// Thumbnails: GET /<uid>/thumbnails/thumbnail.<jpg|png|webp|gif>, on the delivery paths that
// Cloudflare serves from customer-<CODE>.cloudflarestream.com (here: Ministream's own origin).
// Images are made from the original upload, so they work before the encode is done.
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { Errors } from '../errors.js';
import { ThumbnailService, type ThumbnailFormat, type ThumbnailRequest } from '../transcode/thumbnails.js';
import { deliverableVideo } from './delivery-access.js';

export const THUMBNAIL_TYPES: Record<ThumbnailFormat, string> = {
  jpg: 'image/jpeg',
  gif: 'image/gif',
  // Deliberate difference: Cloudflare documents only .jpg and .gif; PNG and WebP are ours.
  png: 'image/png',
  webp: 'image/webp',
};

/** ours: Cloudflare documents no upper bound on a GIF's duration. */
const MAX_GIF_SECONDS = 15;

/** Cloudflare's time syntax: `5s`, `1m`, `5m2s`, `1h2m3s`, or plain seconds such as `2.5`. */
export function parseTime(text: string): number | undefined {
  const t = text.trim();
  const num = '(\\d+(?:\\.\\d+)?)';
  if (new RegExp(`^${num}$`).test(t)) return Number(t);
  const m = new RegExp(`^(?:${num}h)?(?:${num}m)?(?:${num}s)?$`).exec(t);
  if (!m || t === '') return undefined;
  const [h = 0, min = 0, s = 0] = m.slice(1).map((v) => Number(v ?? 0));
  return h * 3600 + min * 60 + s;
}

function timeParam(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseTime(text);
  if (seconds === undefined) throw Errors.validation(`querystring.${name} must be a time such as 5s, 1m, 5m2s or 2.5`);
  return seconds;
}

const Size = Type.Integer({ minimum: 1, maximum: 4096 });
const TimeText = Type.String({ maxLength: 32 });

export const ThumbnailParams = Type.Object({ id: Type.String(), ext: Type.String() });
export const ThumbnailQuery = Type.Object({
  // Without time, the frame at thumbnailTimestampPct of the duration (Cloudflare's default).
  time: Type.Optional(TimeText),
  // Deliberate difference: Cloudflare documents 640 as the default of both width and height
  // (a 640x640 crop); with neither given we make 640 wide and keep the frame's aspect.
  width: Type.Optional(Size),
  height: Type.Optional(Size),
  fit: Type.Optional(Type.Enum(['crop', 'clip', 'scale', 'fill'], { default: 'crop' })),
  // GIF only (ignored on still images): seconds of video, default 5s; frames per second, default 8.
  duration: Type.Optional(TimeText),
  fps: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
});

/** A thumbnail request from the path's extension and the query, checked (404 for an unknown format). */
export function thumbnailRequest(ext: string, q: Static<typeof ThumbnailQuery>): ThumbnailRequest {
  if (!Object.hasOwn(THUMBNAIL_TYPES, ext)) throw Errors.deliveryNotFound();
  const durationSeconds = timeParam('duration', q.duration);
  if (durationSeconds !== undefined && (durationSeconds <= 0 || durationSeconds > MAX_GIF_SECONDS)) {
    throw Errors.validation(`querystring.duration must be more than 0s and at most ${MAX_GIF_SECONDS}s`);
  }
  return {
    format: ext as ThumbnailFormat,
    timeSeconds: timeParam('time', q.time),
    width: q.width,
    height: q.height,
    fit: q.fit ?? 'crop',
    durationSeconds,
    fps: q.fps,
  };
}

export const thumbnailRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { media, tools } = app.ministream;
  const thumbnails = new ThumbnailService(tools.ffmpeg.path, media);

  app.get(
    '/:id/thumbnails/thumbnail.:ext',
    {
      schema: {
        operationId: 'ministream-thumbnail',
        summary: 'A still (jpg, png, webp) or animated (gif) thumbnail of a video, made from its original upload',
        produces: Object.values(THUMBNAIL_TYPES),
        params: ThumbnailParams,
        querystring: ThumbnailQuery,
      },
    },
    async (request, reply) => {
      const req = thumbnailRequest(request.params.ext, request.query);
      // Thumbnails need only the uploaded original, not a finished encode.
      const video = await deliverableVideo(app, request, request.params.id, { ready: false });
      const path = await thumbnails.get(video, req);
      return reply
        .header('cache-control', 'public, max-age=3600')
        .type(THUMBNAIL_TYPES[req.format])
        .send(createReadStream(path));
    },
  );
};
