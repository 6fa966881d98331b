// Captions and subtitles of a video: list, get, upload (PUT multipart `file`, WebVTT), delete, the
// VTT text itself, and generate (POST .../generate). Paths are relative to
// /client/v4/accounts/:account_id/stream. Ready captions join the HLS and DASH manifests
// (delivery-extras.ts).
import { renameSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from 'typebox';
import { ApiError, Errors } from '../errors.js';
import { CAPTION_STATUSES, captionFile, type CaptionRecord, type CaptionStatus } from '../store/caption-store.js';
import type { MediaStore } from '../store/media-store.js';
import { CAPTION_JOB, GENERATE_LANGUAGES, type CaptionJobPayload } from '../transcode/caption-job.js';
import { WebVttError, decodeWebVtt, validateWebVtt } from '../transcode/webvtt.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { receiveForm } from './multipart-file.js';
import { VideoParams } from './schemas/video.js';
import { findVideo } from './video-child.js';

/** Cloudflare's limit on a caption file. */
export const MAX_CAPTION_BYTES = 10 * 1024 * 1024;

export const Caption = Type.Object({
  language: Type.String(),
  label: Type.String(),
  generated: Type.Boolean(),
  status: Type.Unsafe<CaptionStatus>({ type: 'string', enum: [...CAPTION_STATUSES] }),
});

const LanguageParams = Type.Object({ ...VideoParams.properties, language: Type.String({ minLength: 1, maxLength: 64 }) });

const knownLanguages = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/**
 * The canonical form of a BCP 47 tag (`en-us` -> `en-US`) whose language ICU knows; else 400.
 * Deliberate difference: Cloudflare keeps the tag as sent; we canonicalise it, so `en-us` and
 * `en-US` name the same caption (BCP 47 tags are case-insensitive).
 */
export function captionLanguage(raw: string): string {
  let tag: string | undefined;
  try {
    tag = Intl.getCanonicalLocales(raw)[0];
  } catch {
    tag = undefined;
  }
  if (!tag || knownLanguages.of(new Intl.Locale(tag).language) === undefined) throw Errors.invalidLanguage(raw);
  return tag;
}

/** The language's name in itself, capitalised: de -> Deutsch, tr -> Türkçe, en-GB -> British English. */
export function nativeLabel(language: string): string {
  const name = new Intl.DisplayNames([language], { type: 'language' }).of(language) ?? language;
  return name.charAt(0).toLocaleUpperCase(language) + name.slice(1);
}

export const presentCaption = (c: CaptionRecord) => ({ language: c.language, label: c.label, generated: c.generated, status: c.status });

/**
 * The `file` part as text: the SDK sends it as a plain field holding the VTT text (no filename),
 * curl -F file=@x.vtt as a file part; both are taken.
 */
async function receiveCaption(request: FastifyRequest, media: MediaStore): Promise<string> {
  let form;
  try {
    form = await receiveForm(request, media, MAX_CAPTION_BYTES, 'caption');
  } catch (err) {
    throw err instanceof ApiError && err.status === 413 ? Errors.captionTooLarge(MAX_CAPTION_BYTES) : err;
  }
  let bytes: Buffer;
  if (form.file) {
    bytes = await readFile(form.file.path);
    await rm(form.file.path, { force: true });
  } else if (form.fields.file !== undefined) {
    bytes = Buffer.from(form.fields.file, 'utf8');
  } else {
    throw Errors.missingFile();
  }
  if (bytes.length > MAX_CAPTION_BYTES) throw Errors.captionTooLarge(MAX_CAPTION_BYTES);
  try {
    const text = decodeWebVtt(bytes);
    validateWebVtt(text);
    return text;
  } catch (err) {
    throw err instanceof WebVttError ? Errors.invalidCaption(err.message) : err;
  }
}

export const captionRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, captions, media, ingest, transaction } = app.ministream;
  // The SDK sends the VTT as a plain field: fields may be as large as the file.
  await app.register(multipart, {
    limits: { fileSize: MAX_CAPTION_BYTES, fieldSize: MAX_CAPTION_BYTES + 16, files: 1, fields: 8, parts: 10 },
  });

  const findCaption = (videoUid: string, language: string): CaptionRecord => {
    const caption = captions.get(videoUid, language);
    if (!caption) throw Errors.captionNotFound();
    return caption;
  };

  app.get(
    '/:identifier/captions',
    { schema: { operationId: 'stream-subtitles/-captions-list-captions-or-subtitles', params: VideoParams, response: { 200: Envelope(Type.Array(Caption)), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      return ok(captions.list(video.uid).map(presentCaption));
    },
  );

  app.get(
    '/:identifier/captions/:language',
    { schema: { operationId: 'stream-subtitles/-captions-get-caption-or-subtitle-for-language', params: LanguageParams, response: { 200: Envelope(Caption), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      return ok(presentCaption(findCaption(video.uid, captionLanguage(request.params.language))));
    },
  );

  app.put(
    '/:identifier/captions/:language',
    {
      schema: {
        operationId: 'stream-subtitles/-captions-upload-captions-or-subtitles',
        summary: 'Upload a WebVTT caption: multipart/form-data with the file (or its text) in field "file", at most 10 MB',
        consumes: ['multipart/form-data'],
        params: LanguageParams,
        response: { 200: Envelope(Caption), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      const language = captionLanguage(request.params.language);
      const text = await receiveCaption(request, media);
      const file = captionFile(media.videoDir(video.uid), language);
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, text);
      // File and row together, synchronously: a generation finishing now sees the upload and yields.
      renameSync(tmp, file);
      const caption = captions.put({ accountId: video.accountId, videoUid: video.uid, language, label: nativeLabel(language), generated: false, status: 'ready' });
      return ok(presentCaption(caption));
    },
  );

  app.delete(
    '/:identifier/captions/:language',
    { schema: { operationId: 'stream-subtitles/-captions-delete-captions-or-subtitles', params: LanguageParams, response: { 200: Envelope(Type.String()), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      const language = captionLanguage(request.params.language);
      findCaption(video.uid, language);
      // The row first: once it is gone nothing serves the file, which follows.
      captions.delete(video.uid, language);
      await rm(captionFile(media.videoDir(video.uid), language), { force: true });
      return ok('');
    },
  );

  app.get(
    '/:identifier/captions/:language/vtt',
    { schema: { operationId: 'stream-subtitles/-captions-get-vtt-caption-or-subtitle', params: LanguageParams, produces: ['text/vtt'] } },
    async (request, reply) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      const language = captionLanguage(request.params.language);
      // A generated caption still in progress (or failed) has no text yet.
      if (findCaption(video.uid, language).status !== 'ready') throw Errors.captionNotFound();
      const text = await readFile(captionFile(media.videoDir(video.uid), language), 'utf8').catch(() => undefined);
      if (text === undefined) throw Errors.captionNotFound();
      // Raw text, not an envelope: the SDK hands a JSON answer back whole (sdk-wire.md).
      return reply.type('text/vtt; charset=utf-8').send(text);
    },
  );

  app.post(
    '/:identifier/captions/:language/generate',
    { schema: { operationId: 'stream-subtitles/-captions-generate-caption-or-subtitle-for-language', params: LanguageParams, response: { 200: Envelope(Caption), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      const language = captionLanguage(request.params.language);
      if (!(GENERATE_LANGUAGES as readonly string[]).includes(language)) throw Errors.generateLanguage(GENERATE_LANGUAGES);
      if (video.state !== 'ready') throw Errors.videoNotReadyFor('generate captions');
      if (captions.get(video.uid, language)) throw Errors.captionExists();
      const caption = transaction(() => {
        const c = captions.put({
          accountId: video.accountId,
          videoUid: video.uid,
          language,
          label: `${nativeLabel(language)} (auto-generated)`,
          generated: true,
          status: 'inprogress',
        });
        const payload: CaptionJobPayload = { language, created: c.created };
        ingest.queue.enqueue({ kind: CAPTION_JOB, accountId: video.accountId, videoUid: video.uid, payload: { ...payload } });
        return c;
      });
      return ok(presentCaption(caption));
    },
  );
};
