// Direct creator uploads: POST /stream/direct_upload makes a one-time URL (a video in
// `pendingupload`); the end user's browser POSTs one multipart `file` to it, without any token.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { normalizeTimestamp, timestampIn, UID_PATTERN } from '../store/clock.js';
import { completePendingVideo } from '../transcode/ingest.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { receiveFile, registerMultipart } from './multipart-file.js';
import { presentWatermark, publicOrigin } from './present-video.js';
import { AccountParams, DateTime, Nullable, Uid } from './schemas/video.js';
import { UploadOptionsFields, videoOptionsFromBody, withWatermark } from './upload-options.js';

/** Cloudflare's default lifetime of a one-time upload URL. */
const DEFAULT_EXPIRY_MS = 30 * 60_000;

const DirectUploadBody = Type.Object({
  ...UploadOptionsFields,
  maxDurationSeconds: Type.Integer({ minimum: 1, maximum: 21600 }),
  expiry: Type.Optional(DateTime),
});

const DirectUploadResult = Type.Object({
  uid: Uid,
  uploadURL: Type.String(),
  scheduledDeletion: Nullable(DateTime),
  watermark: Nullable(Type.Record(Type.String(), Type.Unknown())),
});

/** The path of the one-time URL. Cloudflare's is https://upload.videodelivery.net/<uid>. */
export const directUploadPath = (uid: string) => `/upload/${uid}`;

/** POST /stream/direct_upload, under the API prefix (authenticated). */
export const directUploadRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, uploads, config } = app.ministream;

  app.post(
    '/direct_upload',
    {
      schema: {
        operationId: 'stream-videos-upload-videos-via-direct-upload-ur-ls',
        params: AccountParams,
        body: DirectUploadBody,
        response: { 200: Envelope(DirectUploadResult), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const body = request.body;
      const options = withWatermark(
        app.ministream.watermarks,
        request.params.account_id,
        videoOptionsFromBody(body, request.headers['upload-creator'] as string | undefined),
      );
      const expiry = body.expiry ? normalizeTimestamp(body.expiry)! : timestampIn(DEFAULT_EXPIRY_MS);
      if (Date.parse(expiry) <= Date.now()) throw Errors.validation('expiry must be in the future');
      const accountId = request.params.account_id;
      // The video and its one-time URL are written together: both exist, or neither.
      const video = app.ministream.transaction(() => {
        const v = videos.create({ ...options, accountId, state: 'pendingupload', maxDurationSeconds: body.maxDurationSeconds, uploadExpiry: expiry });
        uploads.create({ uid: v.uid, accountId, kind: 'direct', expiresAt: expiry });
        return v;
      });
      return ok({
        uid: video.uid,
        uploadURL: `${publicOrigin(request, config.publicUrl)}${directUploadPath(video.uid)}`,
        scheduledDeletion: video.scheduledDeletion,
        watermark: video.watermark ? presentWatermark(video.watermark) : null,
      });
    },
  );
};

/** POST /upload/:uid: the one-time URL itself, outside the API (no token; CORS open). */
export const oneTimeUploadRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, uploads, media, config, ingest } = app.ministream;
  await registerMultipart(app, config.maxBasicUploadBytes);

  app.post(
    '/upload/:uid',
    {
      schema: {
        operationId: 'ministream-direct-upload-post',
        summary: 'The one-time uploadURL of a direct creator upload: one multipart POST of "file", no token',
        consumes: ['multipart/form-data'],
        params: Type.Object({ uid: Type.String() }),
        response: { 200: Envelope(Type.Null()), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const { uid } = request.params;
      const upload = UID_PATTERN.test(uid) ? uploads.get(uid) : undefined;
      if (!upload || upload.kind !== 'direct') throw Errors.uploadUrlUnknown();
      if (upload.completed) throw Errors.uploadUrlUsed();
      if (Date.parse(upload.expiresAt) < Date.now()) throw Errors.uploadUrlExpired();
      // Claimed before the first byte is read, so that two concurrent POSTs cannot both win.
      if (!uploads.claim(uid)) throw Errors.uploadUrlUsed();
      try {
        const file = await receiveFile(request, media, config.maxBasicUploadBytes, 'direct');
        const video = videos.findByUid(uid);
        if (!video) throw Errors.uploadUrlUnknown();
        await completePendingVideo(ingest, { video, file: file.path, size: file.size, refuseNonVideo: true });
        uploads.complete(uid);
      } catch (err) {
        // A refused file (not a video, too large) leaves the URL usable for a correct one.
        uploads.release(uid);
        throw err;
      }
      return ok(null);
    },
  );
};
