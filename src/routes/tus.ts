// tus resumable uploads, as Stream takes them: creation on POST /client/v4/accounts/:account_id/stream
// when Tus-Resumable is present, chunks on the returned Location. @tus/server speaks the protocol
// and @tus/file-store keeps the bytes (and their offsets) in <data-dir>/tus, so uploads resume
// after the client drops and after Ministream restarts. This module adds Stream's rules: the upload
// id is the video uid, Upload-Metadata sets the video's options, chunk sizes are checked, and the
// video moves pendingupload -> queued when the last byte lands.
import type { ServerResponse } from 'node:http';
import type { ConstraintStrategy } from 'find-my-way';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Server, EVENTS } from '@tus/server';
import { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import { ApiError } from '../errors.js';
import { newUid, timestampIn, UID_PATTERN } from '../store/clock.js';
import type { UploadRecord } from '../store/upload-store.js';
import { completePendingVideo, failVideo } from '../transcode/ingest.js';
import { VideoErrorReasons } from '../errors.js';
import { API_PREFIX } from './auth.js';
import { videoOptionsFromTusMetadata, withWatermark } from './upload-options.js';

const MiB = 1024 * 1024;
/** Cloudflare's chunk rules: at least 5 MiB, a multiple of 256 KiB (except the last), at most 200 MiB. */
export const CHUNK_RULES = { min: 5 * MiB, multiple: 256 * 1024, max: 200 * MiB } as const;
/** Cloudflare's largest file: 30 GB. */
const MAX_UPLOAD_BYTES = 30_000_000_000;
/** An API upload is abandoned after a day without progress; a direct-user one after its expiry. */
const API_IDLE_MS = 24 * 3_600_000;
const DIRECT_DEFAULT_EXPIRY_MS = 30 * 60_000;
/** A direct-user tus upload without maxDurationSeconds reserves 4 hours (cloudflare-go PR #1386). */
const DIRECT_DEFAULT_MAX_DURATION = 14_400;
/** Each chunk that lands keeps an upload alive at least this much longer. */
const PROGRESS_GRACE_MS = 30 * 60_000;

const STREAM_PATH = new RegExp(`^${API_PREFIX}accounts/([^/]+)/stream(?:/|$)`);

/** Routes requests that carry Tus-Resumable to the tus handlers of a shared path. */
export const tusConstraint: ConstraintStrategy<never, string> = {
  name: 'tus',
  storage() {
    const handlers = new Map<string, unknown>();
    return {
      get: (value: string) => (handlers.get(value) ?? null) as never,
      set: (value: string, handler: unknown) => void handlers.set(value, handler),
    };
  },
  deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) => (req.headers['tus-resumable'] ? 'yes' : 'no'),
  mustMatchWhenDerived: false,
};

function tusText(reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply
    .code(status)
    .headers({ 'Tus-Resumable': '1.0.0', 'Cache-Control': 'no-store', ...headers })
    .type('text/plain; charset=utf-8')
    .send(status === 200 || status === 204 ? '' : `${message}\n`);
}

/** tus hooks fail a request by throwing {status_code, body}. */
function tusError(err: unknown): { status_code: number; body: string } {
  if (err instanceof ApiError) return { status_code: err.status, body: `${err.message}\n` };
  throw err;
}

export const tusRoutes: FastifyPluginAsync = async (app) => {
  const { videos, uploads, media, config, ingest: ingestDeps } = app.ministream;

  const server = new Server({
    path: '/tus', // only read by the default URL builder, which generateUrl replaces
    datastore: new FileStore({ directory: media.tusDir }),
    maxSize: MAX_UPLOAD_BYTES,
    exposedHeaders: ['Stream-Media-Id', 'Location'],
    respectForwardedHeaders: false,
    namingFunction(req) {
      const uid = newUid();
      // Stream's creation answer carries the uid in stream-media-id; clients should read it there.
      const node = (req as unknown as { runtime?: { node?: { res?: ServerResponse } } }).runtime?.node?.res;
      node?.setHeader('stream-media-id', uid);
      return uid;
    },
    generateUrl(req, { proto, host, id }) {
      const origin = config.publicUrl ?? `${proto}://${host}`;
      const url = new URL(req.url);
      if (url.searchParams.get('direct_user') === 'true') {
        // Cloudflare hands end users https://upload.videodelivery.net/tus/<uid>?tusv2=true.
        return `${origin}/tus/${id}?tusv2=true`;
      }
      const account = STREAM_PATH.exec(url.pathname)?.[1] ?? '';
      return `${origin}${API_PREFIX}accounts/${account}/stream/${id}`;
    },
    // Needed because a Location may carry a query string (?tusv2=true); the default extractor
    // would take it for part of the id. Only a well-formed uid is ever passed on.
    getFileIdFromRequest(req) {
      const last = new URL(req.url).pathname.split('/').pop() ?? '';
      return UID_PATTERN.test(last) ? last : undefined;
    },
    async onUploadCreate(req, upload: Upload) {
      const url = new URL(req.url);
      const accountId = decodeURIComponent(STREAM_PATH.exec(url.pathname)?.[1] ?? '');
      const directUser = url.searchParams.get('direct_user') === 'true';
      let options;
      try {
        options = withWatermark(
          app.ministream.watermarks,
          accountId,
          videoOptionsFromTusMetadata(upload.metadata ?? {}, req.headers.get('upload-creator') || undefined),
        );
      } catch (err) {
        throw tusError(err);
      }
      const { expiresAt: requested, ...videoOptions } = options;
      const expiresAt = requested ?? timestampIn(directUser ? DIRECT_DEFAULT_EXPIRY_MS : API_IDLE_MS);
      app.ministream.transaction(() => {
        videos.create({
          ...videoOptions,
          uid: upload.id,
          accountId,
          state: 'pendingupload',
          maxDurationSeconds: videoOptions.maxDurationSeconds ?? (directUser ? DIRECT_DEFAULT_MAX_DURATION : undefined),
          uploadExpiry: directUser ? expiresAt : null,
        });
        uploads.create({ uid: upload.id, accountId, kind: directUser ? 'tus-direct' : 'tus', length: upload.size ?? null, expiresAt });
      });
      return {};
    },
    async onUploadFinish(_req, upload: Upload) {
      await finishUpload(upload);
      return { headers: { 'stream-media-id': upload.id } };
    },
  });

  /** The last byte has landed: the video leaves pendingupload before the final PATCH is answered. */
  async function finishUpload(upload: Upload): Promise<void> {
    const file = media.tusFile(upload.id);
    const video = videos.findByUid(upload.id);
    if (!video) {
      await media.removeVideo(upload.id);
      return;
    }
    try {
      await completePendingVideo(ingestDeps, { video, file, size: upload.size ?? upload.offset, refuseNonVideo: false });
    } catch (err) {
      app.log.error({ err, uid: upload.id }, 'tus: completing the upload failed');
      failVideo(videos, video, VideoErrorReasons.unknown);
    }
    uploads.complete(upload.id);
    await media.removeTusUpload(upload.id);
  }

  server.on(EVENTS.POST_TERMINATE, (_req, _res, id: string) => {
    const upload = uploads.get(id);
    if (upload) videos.delete(upload.accountId, id);
    void media.removeVideo(id);
  });

  const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    try {
      await server.handle(request.raw, reply.raw);
    } catch (err) {
      request.log.error({ err }, 'tus handler failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500).end();
    }
  };

  /** Stream's rules on an existing upload, checked before @tus/server sees the request. */
  const checkUpload = (upload: UploadRecord | undefined, request: FastifyRequest, reply: FastifyReply, where: 'api' | 'direct'): boolean => {
    const notFound = () => (tusText(reply, 404, 'The file for this url was not found'), false);
    if (!upload || (upload.kind !== 'tus' && upload.kind !== 'tus-direct')) return notFound();
    if (where === 'direct' && upload.kind !== 'tus-direct') return notFound();
    if (where === 'api') {
      const account = (request.params as { account_id: string }).account_id;
      if (upload.accountId !== account) return notFound();
    }
    if (upload.completed) {
      // A finished upload reports itself complete, so that a client resuming it is done at once.
      if (request.method === 'HEAD') {
        const length = String(upload.length ?? 0);
        return (tusText(reply, 200, '', { 'Upload-Offset': length, 'Upload-Length': length }), false);
      }
      return notFound();
    }
    if (Date.parse(upload.expiresAt) < Date.now()) return (tusText(reply, 410, 'The upload has expired'), false);
    if (request.method === 'PATCH') {
      const refusal = config.lenientTusChunks ? undefined : chunkRefusal(request, upload);
      if (refusal) return (tusText(reply, 400, refusal), false);
      const grace = timestampIn(PROGRESS_GRACE_MS);
      uploads.touch(upload.uid, grace > upload.expiresAt ? grace : undefined);
    }
    return true;
  };

  const onUpload = (where: 'api' | 'direct') => async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS') return handOver(request, reply);
    const uid = where === 'api' ? (request.params as { identifier: string }).identifier : (request.params as { uid: string }).uid;
    const upload = UID_PATTERN.test(uid) ? uploads.get(uid) : undefined;
    if (!checkUpload(upload, request, reply, where)) return reply;
    return handOver(request, reply);
  };

  const onCreate = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'POST' && request.headers['upload-defer-length'] !== undefined) {
      return tusText(reply, 400, 'Upload-Length is required: Stream does not take uploads of deferred length');
    }
    return handOver(request, reply);
  };

  // Chunk bodies are left unread for @tus/server, which streams them to disk.
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));

  const stream = `${API_PREFIX}accounts/:account_id/stream`;
  app.route({ method: ['POST', 'OPTIONS'], url: stream, constraints: { tus: 'yes' }, handler: onCreate });
  // Only requests that speak tus (Tus-Resumable) reach these; others fall through to the JSON API.
  app.route({ method: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'], url: `${stream}/:identifier`, constraints: { tus: 'yes' }, handler: onUpload('api') });
  // The token-free Location of direct-user tus uploads (POST /stream?direct_user=true).
  app.route({ method: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'], url: '/tus/:uid', handler: onUpload('direct') });
};

/** Cloudflare's chunk-size rules, or undefined when the PATCH follows them. */
function chunkRefusal(request: FastifyRequest, upload: UploadRecord): string | undefined {
  const length = Number(request.headers['content-length']);
  const offset = Number(request.headers['upload-offset']);
  if (!Number.isFinite(length) || !Number.isFinite(offset) || upload.length === null) return undefined;
  if (length > CHUNK_RULES.max) return `Chunk size must be at most 200MiB (${CHUNK_RULES.max} bytes)`;
  const isLast = offset + length === upload.length;
  if (isLast) return undefined;
  if (length < CHUNK_RULES.min) return `Chunk size must be at least 5MiB (${CHUNK_RULES.min} bytes), except for the last chunk`;
  if (length % CHUNK_RULES.multiple !== 0) return 'Chunk size must be a multiple of 256KiB';
  return undefined;
}
