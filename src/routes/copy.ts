// Upload from URL: POST /stream/copy answers at once with the video in `downloading`; the
// download streams to disk in the background (src/transcode/url-importer.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Metadata } from '@tus/utils';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { timestampIn } from '../store/clock.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { presentVideo, publicOrigin } from './present-video.js';
import { AccountParams, Video } from './schemas/video.js';
import { UploadOptionsFields, videoOptionsFromBody, videoOptionsFromTusMetadata, withWatermark, type VideoOptions } from './upload-options.js';

/** A copy that has not finished within a week is given up. */
const COPY_EXPIRY_MS = 7 * 86_400_000;

const CopyBody = Type.Object({
  ...UploadOptionsFields,
  // SDK 7.3 prefers `input`; `url` is the 2024 name, still accepted (and still what the SDK sends).
  url: Type.Optional(Type.String()),
  input: Type.Optional(Type.String()),
  // "legacy compatibility": becomes meta.name.
  name: Type.Optional(Type.String()),
});

function sourceUrl(body: { url?: string; input?: string }): string {
  const raw = body.input ?? body.url;
  if (!raw) throw Errors.validation('url is required');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw Errors.invalidSourceUrl();
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw Errors.invalidSourceUrl();
  return parsed.href;
}

/** Upload-Metadata on a copy carries the same keys as on a tus creation. */
function optionsFromHeader(header: string | undefined): VideoOptions {
  if (!header) return {};
  let parsed: Record<string, string | null | undefined>;
  try {
    parsed = Metadata.parse(header);
  } catch {
    throw Errors.validation('Upload-Metadata must be comma-separated "key base64value" pairs');
  }
  const { expiresAt: _ignored, ...options } = videoOptionsFromTusMetadata(parsed);
  return options;
}

export const copyRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, uploads, importer, config } = app.ministream;

  app.post(
    '/copy',
    {
      schema: {
        operationId: 'stream-videos-upload-videos-from-a-url',
        params: AccountParams,
        body: CopyBody,
        response: { 200: Envelope(Video), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const body = request.body;
      const url = sourceUrl(body);
      const fromHeader = optionsFromHeader(request.headers['upload-metadata'] as string | undefined);
      const fromBody = videoOptionsFromBody(body, request.headers['upload-creator'] as string | undefined);
      const defined = Object.fromEntries(Object.entries(fromBody).filter(([, v]) => v !== undefined));
      const options: VideoOptions = withWatermark(app.ministream.watermarks, request.params.account_id, { ...fromHeader, ...defined });
      // Stream records where the video came from in meta["downloaded-from"].
      const meta = { ...fromHeader.meta, ...body.meta, ...(body.name ? { name: body.name } : {}), 'downloaded-from': url };
      const accountId = request.params.account_id;
      const video = app.ministream.transaction(() => {
        const v = videos.create({ ...options, meta, accountId, state: 'downloading' });
        uploads.create({ uid: v.uid, accountId, kind: 'copy', sourceUrl: url, expiresAt: timestampIn(COPY_EXPIRY_MS) });
        return v;
      });
      importer.start(video.uid);
      return ok(presentVideo(video, publicOrigin(request, config.publicUrl)));
    },
  );
};
