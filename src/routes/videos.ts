// The video resource: list, get, edit, delete, storage usage, embed code.
// Paths are relative to /client/v4/accounts/:account_id/stream.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { UID_PATTERN, normalizeTimestamp } from '../store/clock.js';
import { VIDEO_STATES, type VideoListQuery, type VideoPatch, type VideoRecord, type VideoState } from '../store/video-types.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { checkScheduledDeletion } from './upload-options.js';
import { deliveryUrls, presentVideo, publicOrigin } from './present-video.js';
import {
  AccountParams,
  EditVideoBody,
  ListVideosQuery,
  StorageUsage,
  StorageUsageQuery,
  Video,
  VideoParams,
  type EditVideoBodyT,
  type ListVideosQueryT,
} from './schemas/video.js';

/** Cloudflare accounts buy storage in 1,000-minute blocks; we report one block. */
const STORAGE_MINUTES_LIMIT = 1000;

const ListEnvelope = Type.Object({
  ...Envelope(Type.Array(Video)).properties,
  // Cloudflare puts the counts at the envelope's top level, not in result_info.
  total: Type.Integer(),
  range: Type.Integer(),
});

function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

function timestampParam(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = normalizeTimestamp(value);
  if (!t) throw Errors.validation(`querystring.${name} must be an RFC 3339 date-time`);
  return t;
}

export function toListQuery(q: ListVideosQueryT): VideoListQuery {
  const states = splitList(q.status);
  for (const s of states ?? []) {
    if (!(VIDEO_STATES as readonly string[]).includes(s)) {
      throw Errors.validation(`querystring.status must be one of ${VIDEO_STATES.join(', ')}`);
    }
  }
  return {
    // `after`/`before` are the current names; `start`/`end` the older aliases.
    after: timestampParam('after', q.after ?? q.start),
    before: timestampParam('before', q.before ?? q.end),
    asc: q.asc ?? false,
    limit: Math.min(q.limit ?? 1000, 1000),
    creator: q.creator,
    states: states as VideoState[] | undefined,
    type: q.type,
    search: q.search,
    videoName: q.video_name,
    uids: splitList(q.id),
    names: splitList(q.name),
    liveInputId: q.live_input_id,
  };
}

/** Turns an edit body into a store patch, enforcing the rules the schema cannot express. */
export function toVideoPatch(video: VideoRecord, body: EditVideoBodyT): VideoPatch {
  if (body.uid !== undefined && body.uid !== video.uid) {
    throw Errors.validation('uid in the body does not match the video being edited');
  }
  const patch: VideoPatch = {};
  if (body.allowedOrigins !== undefined) patch.allowedOrigins = body.allowedOrigins;
  if (body.creator !== undefined) patch.creator = body.creator;
  if (body.maxDurationSeconds !== undefined) patch.maxDurationSeconds = body.maxDurationSeconds;
  if (body.meta !== undefined) patch.meta = body.meta; // meta is replaced whole, as on Cloudflare
  if (body.requireSignedURLs !== undefined) patch.requireSignedURLs = body.requireSignedURLs;
  if (body.thumbnailTimestampPct !== undefined) patch.thumbnailTimestampPct = body.thumbnailTimestampPct;
  if (body.publicDetails !== undefined) {
    const base = video.publicDetails ?? { title: null, share_link: null, channel_link: null, logo: null };
    patch.publicDetails = { ...base, ...body.publicDetails };
  }
  if (body.uploadExpiry !== undefined) {
    patch.uploadExpiry = body.uploadExpiry === null ? null : normalizeTimestamp(body.uploadExpiry)!;
  }
  if (body.scheduledDeletion !== undefined) {
    patch.scheduledDeletion = body.scheduledDeletion === null ? null : checkScheduledDeletion(video.created, body.scheduledDeletion);
  }
  return patch;
}

export const videoRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, media, config } = app.ministream;

  const findVideo = (accountId: string, identifier: string): VideoRecord => {
    if (!UID_PATTERN.test(identifier)) throw Errors.invalidVideoId();
    const video = videos.get(accountId, identifier);
    if (!video) throw Errors.videoNotFound();
    return video;
  };

  app.get(
    '/',
    { schema: { operationId: 'stream-videos-list-videos', params: AccountParams, querystring: ListVideosQuery, response: { 200: ListEnvelope, '4xx': FailureEnvelope } } },
    async (request) => {
      const origin = publicOrigin(request, config.publicUrl);
      const result = videos.list(request.params.account_id, toListQuery(request.query));
      return ok(result.videos.map((v) => presentVideo(v, origin)), { total: result.total, range: result.range });
    },
  );

  app.get(
    '/storage-usage',
    { schema: { operationId: 'stream-videos-storage-usage', params: AccountParams, querystring: StorageUsageQuery, response: { 200: Envelope(StorageUsage), '4xx': FailureEnvelope } } },
    async (request) => {
      const creator = request.query.creator;
      const usage = videos.storageUsage(request.params.account_id, creator);
      return ok({ creator: creator ?? null, totalStorageMinutesLimit: STORAGE_MINUTES_LIMIT, ...usage });
    },
  );

  app.get(
    '/:identifier',
    { schema: { operationId: 'stream-videos-retrieve-video-details', params: VideoParams, response: { 200: Envelope(Video), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(request.params.account_id, request.params.identifier);
      return ok(presentVideo(video, publicOrigin(request, config.publicUrl)));
    },
  );

  app.post(
    '/:identifier',
    { schema: { operationId: 'stream-videos-update-video-details', params: VideoParams, body: EditVideoBody, response: { 200: Envelope(Video), '4xx': FailureEnvelope } } },
    async (request) => {
      const { account_id, identifier } = request.params;
      const video = findVideo(account_id, identifier);
      const updated = videos.update(account_id, identifier, toVideoPatch(video, request.body ?? {}));
      if (!updated) throw Errors.videoNotFound();
      return ok(presentVideo(updated, publicOrigin(request, config.publicUrl)));
    },
  );

  app.delete(
    '/:identifier',
    { schema: { operationId: 'stream-videos-delete-video', params: VideoParams } },
    async (request, reply) => {
      const { account_id, identifier } = request.params;
      findVideo(account_id, identifier);
      // The row goes first: once it is gone nothing can reach the files, which follow.
      videos.delete(account_id, identifier);
      await media.removeVideo(identifier);
      // Cloudflare answers a delete with an empty 200 (the SDK types it as void).
      return reply.code(200).type('text/plain; charset=utf-8').send('');
    },
  );

  app.get(
    '/:identifier/embed',
    { schema: { operationId: 'stream-videos-retreieve-embed-code-html', params: VideoParams, produces: ['text/html'] } },
    async (request, reply) => {
      const video = findVideo(request.params.account_id, request.params.identifier);
      const { iframe } = deliveryUrls(publicOrigin(request, config.publicUrl), video.uid);
      // Deliberate difference: Cloudflare's snippet may use <stream> with its SDK script from
      // embed.cloudflarestream.com, which needs the internet; ours is the iframe form of the same
      // player, served by Ministream itself.
      const html =
        `<iframe src="${iframe}" style="border: none; position: absolute; top: 0; left: 0; height: 100%; width: 100%;" ` +
        'allow="accelerometer; gyroscope; autoplay; encrypted-media; picture-in-picture;" allowfullscreen="true"></iframe>';
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );
};
