// Watermark profiles: POST (multipart `file`, or JSON `url` as SDK 7.3 sends), GET list, GET one,
// DELETE. A video uploaded with a profile's uid is encoded with the image overlaid (encode-job.ts).
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { newUid, nowTimestamp } from '../store/clock.js';
import { WATERMARK_POSITIONS, watermarkJson, type WatermarkPosition, type WatermarkRecord } from '../store/watermark-store.js';
import { ffprobe } from '../transcode/ffmpeg.js';
import { fetchToFile } from '../transcode/url-importer.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { receiveForm, registerMultipart } from './multipart-file.js';
import { AccountParams, DateTime, Nullable } from './schemas/video.js';

/** ours: Cloudflare documents no limit on watermark images. */
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const IMAGE_CODECS = new Set(['png', 'mjpeg', 'webp', 'gif', 'bmp']);

export const Watermark = Type.Object({
  uid: Type.String(),
  name: Type.String(),
  size: Type.Number(),
  height: Type.Integer(),
  width: Type.Integer(),
  created: DateTime,
  downloadedFrom: Nullable(Type.String()),
  opacity: Type.Number(),
  padding: Type.Number(),
  scale: Type.Number(),
  position: Type.String(),
});

const WatermarkParams = Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 32 }), identifier: Type.String() });

interface Options {
  name: string;
  opacity: number;
  padding: number;
  scale: number;
  position: WatermarkPosition;
}

/** Defaults and ranges as Cloudflare documents them; form fields arrive as text. */
function profileOptions(raw: Record<string, unknown>): Options {
  const fraction = (key: string, dflt: number) => {
    const v = raw[key];
    if (v === undefined || v === '') return dflt;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw Errors.validation(`${key} must be a number from 0 to 1`);
    return n;
  };
  const position = (raw.position ?? 'upperRight') as string;
  if (!(WATERMARK_POSITIONS as readonly string[]).includes(position)) {
    throw Errors.validation(`position must be one of ${WATERMARK_POSITIONS.join(', ')}`);
  }
  return {
    name: typeof raw.name === 'string' ? raw.name : '',
    opacity: fraction('opacity', 1),
    padding: fraction('padding', 0.05),
    scale: fraction('scale', 0.15),
    position: position as WatermarkPosition,
  };
}

export const watermarkRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { watermarks, media, tools } = app.ministream;
  await registerMultipart(app, MAX_IMAGE_BYTES);

  /** Probes the image, moves it into the watermarks folder and records the profile. */
  async function saveProfile(accountId: string, image: string, size: number, options: Options, downloadedFrom: string | null): Promise<WatermarkRecord> {
    let probe;
    try {
      probe = await ffprobe(tools.ffprobe.path, image);
    } catch {
      probe = undefined;
    }
    const stream = probe?.streams.find((s) => s.codec_type === 'video');
    if (!stream || !IMAGE_CODECS.has(stream.codec_name ?? '') || !stream.width || !stream.height) {
      await rm(image, { force: true });
      throw Errors.notAnImage();
    }
    const uid = newUid();
    const file = `${uid}.${stream.codec_name === 'mjpeg' ? 'jpg' : stream.codec_name}`;
    await copyFile(image, join(media.watermarksDir, file));
    await rm(image, { force: true });
    const record: WatermarkRecord = { uid, accountId, created: nowTimestamp(), downloadedFrom, size, width: stream.width, height: stream.height, file, ...options };
    watermarks.add(record);
    return record;
  }

  // Multipart and JSON share the route, so the body is checked here rather than by a body schema.
  async function fromRequest(accountId: string, request: FastifyRequest): Promise<WatermarkRecord> {
    if (request.isMultipart()) {
      const form = await receiveForm(request, media, MAX_IMAGE_BYTES, 'watermark');
      if (!form.file) throw Errors.missingFile();
      try {
        return await saveProfile(accountId, form.file.path, form.file.size, profileOptions(form.fields), null);
      } finally {
        await rm(form.file.path, { force: true });
      }
    }
    const body = request.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw Errors.validation('a multipart "file" or a JSON object with "url" is required');
    const b = body as Record<string, unknown>;
    if (b.name !== undefined && typeof b.name !== 'string') throw Errors.validation('name must be a string');
    const url = b.url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw Errors.validation('a multipart "file" or a JSON "url" (http or https) is required');
    const options = profileOptions(b);
    const incoming = media.incomingPath(`watermark-${newUid()}`);
    let size: number;
    try {
      size = await fetchToFile(url, incoming, MAX_IMAGE_BYTES);
    } catch (err) {
      await rm(incoming, { force: true });
      throw Errors.validation(`the watermark image could not be fetched: ${(err as Error).message}`);
    }
    return saveProfile(accountId, incoming, size, options, url);
  }

  app.post(
    '/watermarks',
    {
      schema: {
        operationId: 'stream-watermark-profile-create-watermark-profiles-via-basic-upload',
        consumes: ['multipart/form-data', 'application/json'],
        params: AccountParams,
        response: { 200: Envelope(Watermark), '4xx': FailureEnvelope },
      },
    },
    async (request) => ok(watermarkJson(await fromRequest(request.params.account_id, request))),
  );

  app.get(
    '/watermarks',
    { schema: { operationId: 'stream-watermark-profile-list-watermark-profiles', params: AccountParams, response: { 200: Envelope(Type.Array(Watermark)), '4xx': FailureEnvelope } } },
    async (request) => ok(watermarks.list(request.params.account_id).map(watermarkJson)),
  );

  app.get(
    '/watermarks/:identifier',
    { schema: { operationId: 'stream-watermark-profile-watermark-profile-details', params: WatermarkParams, response: { 200: Envelope(Watermark), '4xx': FailureEnvelope } } },
    async (request) => {
      const w = watermarks.get(request.params.account_id, request.params.identifier);
      if (!w) throw Errors.watermarkNotFound();
      return ok(watermarkJson(w));
    },
  );

  app.delete(
    '/watermarks/:identifier',
    { schema: { operationId: 'stream-watermark-profile-delete-watermark-profiles', params: WatermarkParams, response: { 200: Envelope(Type.String()), '4xx': FailureEnvelope } } },
    async (request) => {
      // The image stays on disk: videos uploaded with this profile keep their copy of it (and
      // a queued encode still needs the image).
      if (!watermarks.delete(request.params.account_id, request.params.identifier)) throw Errors.watermarkNotFound();
      return ok('');
    },
  );
};
