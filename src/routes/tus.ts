// tus resumable uploads, as Stream takes them: creation on POST /client/v4/accounts/:account_id/stream
// when Tus-Resumable is present, chunks on the returned Location. @tus/server speaks the protocol
// and @tus/file-store keeps the bytes (and their offsets) in <data-dir>/tus, so uploads resume
// after the client drops and after Ministream restarts. This module adds Stream's rules: the upload
// id is the video uid, Upload-Metadata sets the video's options, chunk sizes are checked, and the
// video moves pendingupload -> queued when the last byte lands.
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { ConstraintStrategy } from 'find-my-way';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Server, EVENTS, ERRORS, HEADERS, MemoryLocker, StreamLimiter } from '@tus/server';
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

const EXPOSED_HEADERS = ['Stream-Media-Id', 'Location'];
/** How long a PATCH keeps writing after another request asked for its lock (@tus/server's lockDrainTimeout). */
const LOCK_DRAIN_MS = 3000;

export const tusRoutes: FastifyPluginAsync = async (app) => {
  const { videos, uploads, media, config, ingest: ingestDeps } = app.ministream;

  const datastore = new FileStore({ directory: media.tusDir });
  // One locker for @tus/server (HEAD, DELETE, POST) and our own PATCH handler below.
  const locker = new MemoryLocker();
  const server = new Server({
    path: '/tus', // only read by the default URL builder, which generateUrl replaces
    datastore,
    locker,
    maxSize: MAX_UPLOAD_BYTES,
    exposedHeaders: EXPOSED_HEADERS,
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
    // Only reached by a POST that carries the whole file (creation-with-upload); onPatch does the same.
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
      // Probed by the encode job, not here: the final PATCH is answered ~90 ms sooner.
      await completePendingVideo(ingestDeps, { video, file, size: upload.size ?? upload.offset, refuseNonVideo: false, probeInJob: true });
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

  /**
   * PATCH without @tus/server. Its handler turns the Node request into a web Request and back into
   * a Node stream (srvx, Readable.fromWeb), which allocates per chunk and made large uploads ~25 %
   * slower than a bare @tus/server once our larger heap made each full GC dearer. Here the request
   * itself is piped into the FileStore. Everything else mirrors @tus/server 2.x's server.handler +
   * PatchHandler: the same status codes, bodies and headers, and the same lock.
   */
  const onPatch = async (request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> => {
    reply.hijack();
    const res = reply.raw;
    const headers: Record<string, string> = {
      'Tus-Resumable': '1.0.0',
      // @tus/server has no allowedOrigins here, so it answers '*' whatever the Origin.
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': [...HEADERS, EXPOSED_HEADERS].join(', '),
    };
    const answer = (status: number, body = '', extra: Record<string, string> = {}) => {
      if (res.headersSent || res.destroyed) return;
      const all = { ...headers, ...extra };
      if (status !== 204) all['Content-Length'] = String(Buffer.byteLength(body));
      res.writeHead(status, all).end(status === 204 ? undefined : body);
    };
    // Like @tus/server, a refused chunk closes the connection rather than reading the unread body.
    const fail = (err: { status_code: number; body: string }) => answer(err.status_code, err.body, { Connection: 'close' });
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };

    const resumable = header('tus-resumable');
    if (!resumable) return answer(412, 'Tus-Resumable Required\n');
    const offsetHeader = header('upload-offset');
    const contentType = header('content-type');
    const invalid = [
      resumable !== '1.0.0' && 'tus-resumable',
      offsetHeader !== undefined && !/^(0|[1-9]\d*)$/.test(offsetHeader) && 'upload-offset',
      contentType !== undefined && contentType !== 'application/offset+octet-stream' && 'content-type',
    ].filter(Boolean);
    if (invalid.length > 0) return answer(400, `Invalid ${invalid.join(' ')}\n`);
    if (offsetHeader === undefined) return fail(ERRORS.MISSING_OFFSET);
    if (contentType === undefined) return fail(ERRORS.INVALID_CONTENT_TYPE);
    // Stream never takes deferred lengths, so every upload already has one.
    if (header('upload-length') !== undefined) return fail(ERRORS.INVALID_LENGTH);

    const lock = locker.newLock(id);
    const stop = new AbortController();
    let drain: NodeJS.Timeout | undefined;
    res.once('close', () => stop.abort()); // the client left while waiting for the lock
    try {
      // Another request wanting this upload (a client resuming over a half-dead connection) ends
      // this PATCH after LOCK_DRAIN_MS. @tus/server would end the write and answer 204; we drop the
      // connection instead: the bytes written so far stay, and the client's HEAD finds them.
      await lock.lock(stop.signal, async () => {
        drain ??= setTimeout(() => request.raw.destroy(), LOCK_DRAIN_MS);
      });
    } catch (err) {
      return fail(err as typeof ERRORS.ERR_LOCK_TIMEOUT);
    }
    let upload: Upload;
    try {
      upload = await datastore.getUpload(id);
      if (upload.offset !== Number(offsetHeader)) return fail(ERRORS.INVALID_OFFSET);
      const size = upload.size ?? 0;
      const lengthHeader = header('content-length');
      if (lengthHeader !== undefined && upload.offset + Number(lengthHeader) > size) return fail(ERRORS.ERR_SIZE_EXCEEDED);
      // Node's parser already stops at Content-Length; a chunked body is cut at the upload's length.
      const body = lengthHeader !== undefined ? request.raw : pipeline(request.raw, new StreamLimiter(size - upload.offset), () => undefined);
      // A client that drops mid-chunk errors the stream: FileStore keeps what reached the disk.
      upload.offset = await datastore.write(body, id, upload.offset);
    } catch (err) {
      request.log.info({ err, uid: id }, 'tus: PATCH ended early');
      return fail(err && typeof err === 'object' && 'status_code' in err ? (err as typeof ERRORS.UNKNOWN_ERROR) : ERRORS.UNKNOWN_ERROR);
    } finally {
      clearTimeout(drain);
      stop.abort();
      await lock.unlock();
    }
    try {
      const extra: Record<string, string> = { 'Upload-Offset': String(upload.offset) };
      // What onUploadFinish did when @tus/server handled PATCH.
      if (upload.offset === upload.size) {
        await finishUpload(upload);
        extra['stream-media-id'] = upload.id;
      }
      // FileStore has no expiration configured, so no Upload-Expires.
      answer(204, '', extra);
    } catch (err) {
      request.log.error({ err, uid: id }, 'tus: PATCH failed');
      fail(ERRORS.UNKNOWN_ERROR);
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
    if (request.method === 'PATCH') return onPatch(request, reply, uid);
    return handOver(request, reply);
  };

  const onCreate = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'POST' && request.headers['upload-defer-length'] !== undefined) {
      return tusText(reply, 400, 'Upload-Length is required: Stream does not take uploads of deferred length');
    }
    return handOver(request, reply);
  };

  // Chunk bodies are left unread: onPatch (or @tus/server, for creation-with-upload) streams them to disk.
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
