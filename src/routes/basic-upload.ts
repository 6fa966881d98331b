// Basic upload: POST /client/v4/accounts/:account_id/stream as multipart/form-data with field `file`.
// The file is streamed to disk (never held in memory), probed, and becomes a queued video.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Errors } from '../errors.js';
import { ingestUpload } from '../transcode/ingest.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { presentVideo, publicOrigin } from './present-video.js';
import { AccountParams, Video } from './schemas/video.js';

/** Room for the multipart boundaries and part headers around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

export const basicUploadRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, media, config, tools } = app.ministream;
  const limit = config.maxBasicUploadBytes;

  await app.register(multipart, {
    limits: { fileSize: limit, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 },
  });

  app.post(
    '/',
    {
      schema: {
        operationId: 'stream-videos-basic-upload',
        summary: 'Basic upload: multipart/form-data with the video in field "file" (at most 200 MB)',
        consumes: ['multipart/form-data'],
        params: AccountParams,
        response: { 200: Envelope(Video), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      if (!request.isMultipart()) throw Errors.missingFile();
      const declared = Number(request.headers['content-length'] ?? NaN);
      if (declared > limit + MULTIPART_OVERHEAD) throw Errors.uploadTooLarge(limit);

      const part = await request.file();
      if (!part || part.fieldname !== 'file') throw Errors.missingFile();
      const incoming = media.incomingPath(`basic-${randomBytes(8).toString('hex')}`);
      try {
        await pipeline(part.file, createWriteStream(incoming));
      } catch (err) {
        await rm(incoming, { force: true });
        if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw Errors.uploadTooLarge(limit);
        throw err;
      }
      if (part.file.truncated) {
        await rm(incoming, { force: true });
        throw Errors.uploadTooLarge(limit);
      }
      const size = part.file.bytesRead;
      // Like Cloudflare's, a basic upload takes no creator or watermark: set them with an edit afterwards.
      const video = await ingestUpload(
        { videos, media, ffprobePath: tools.ffprobe.path },
        { accountId: request.params.account_id, file: incoming, size },
      );
      return ok(presentVideo(video, publicOrigin(request, config.publicUrl)));
    },
  );
};
