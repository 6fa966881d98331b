// Basic upload: POST /client/v4/accounts/:account_id/stream as multipart/form-data with field `file`.
// The file is streamed to disk, probed, and becomes a queued video. (With Tus-Resumable, the same
// POST is a tus creation: see tus.ts.)
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ingestNewVideo } from '../transcode/ingest.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { receiveFile, registerMultipart } from './multipart-file.js';
import { presentVideo, publicOrigin } from './present-video.js';
import { AccountParams, Video } from './schemas/video.js';

export const basicUploadRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { media, config, ingest } = app.ministream;
  await registerMultipart(app, config.maxBasicUploadBytes);

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
      const file = await receiveFile(request, media, config.maxBasicUploadBytes, 'basic');
      // Like Cloudflare's, a basic upload takes no creator or watermark: set them with an edit afterwards.
      const video = await ingestNewVideo(ingest, { accountId: request.params.account_id, file: file.path, size: file.size });
      return ok(presentVideo(video, publicOrigin(request, config.publicUrl)));
    },
  );
};
