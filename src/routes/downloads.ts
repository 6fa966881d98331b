// MP4 downloads. The API (under /client/v4/accounts/:account_id/stream): POST/GET/DELETE
// /:identifier/downloads and /:identifier/downloads/{default|audio}. Delivery (Cloudflare's paths on
// Ministream's origin): /<uid or token>/downloads/default.mp4 and /audio.m4a, through the same gate
// as every delivery route, with ?filename= and Range requests.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fastifyStatic from '@fastify/static';
import { rm } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Errors } from '../errors.js';
import { UID_PATTERN } from '../store/clock.js';
import { DOWNLOAD_FILES, DOWNLOAD_TYPES, downloadFile, type DownloadRecord, type DownloadStatus, type DownloadType } from '../store/download-store.js';
import type { VideoRecord } from '../store/video-types.js';
import { DOWNLOAD_JOB, readLadder } from '../transcode/download-job.js';
import { deliverableVideo } from './delivery-access.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { publicOrigin } from './present-video.js';
import { VideoParams } from './schemas/video.js';

/** SDK 7.3's download object (the 2024 schema types the whole result only as `object`). */
const Download = Type.Object({
  status: Type.Unsafe<DownloadStatus>({ type: 'string', enum: ['ready', 'inprogress', 'error'] }),
  // A number, unlike the video's pctComplete string.
  percentComplete: Type.Number(),
  url: Type.String(),
});
/** A key appears only once that type of download has been created. */
const Downloads = Type.Object({ default: Type.Optional(Download), audio: Type.Optional(Download) });
type DownloadsJson = Static<typeof Downloads>;

const TypeParams = Type.Object({
  ...VideoParams.properties,
  type: Type.Unsafe<DownloadType>({ type: 'string', enum: [...DOWNLOAD_TYPES] }),
});

const responses = { 200: Envelope(Downloads), '4xx': FailureEnvelope };

function presentDownloads(list: DownloadRecord[], origin: string): DownloadsJson {
  const out: DownloadsJson = {};
  for (const d of list) {
    out[d.type] = { status: d.status, percentComplete: d.percentComplete, url: `${origin}/${d.videoUid}/downloads/${DOWNLOAD_FILES[d.type]}` };
  }
  return out;
}

export const downloadRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, downloads, media, ingest, config, transaction } = app.ministream;

  const findVideo = (accountId: string, identifier: string): VideoRecord => {
    if (!UID_PATTERN.test(identifier)) throw Errors.invalidVideoId();
    const video = videos.get(accountId, identifier);
    if (!video) throw Errors.videoNotFound();
    return video;
  };
  const answer = (request: FastifyRequest, uid: string) => ok(presentDownloads(downloads.list(uid), publicOrigin(request, config.publicUrl)));

  const create = async (request: FastifyRequest, accountId: string, identifier: string, type: DownloadType) => {
    const video = findVideo(accountId, identifier);
    if (!video.readyToStream) throw Errors.videoNotReadyFor('create its downloads');
    // ours: Cloudflare does not say what an audio download of a silent video does.
    if (type === 'audio' && !(await readLadder(media, video.uid))?.hasAudio) throw Errors.noAudioTrack();
    const existing = downloads.get(video.uid, type);
    // Creating again is harmless: a download in progress or ready is left as it is; one that
    // failed starts over.
    if (!existing || existing.status === 'error') {
      transaction(() => {
        const d = downloads.start(video.accountId, video.uid, type);
        ingest.queue.enqueue({ kind: DOWNLOAD_JOB, accountId: video.accountId, videoUid: video.uid, payload: { type, created: d.created } });
      });
    }
    // As on Cloudflare, the answer lists every download type of the video, not only this one.
    return answer(request, video.uid);
  };

  const remove = async (accountId: string, identifier: string, type: DownloadType) => {
    const video = findVideo(accountId, identifier);
    // The row first: once it is gone the file is not served, and a job still running drops its output.
    downloads.delete(video.uid, type);
    await rm(downloadFile(media, video.uid, type), { force: true });
    // ours: deleting a download that does not exist is not an error (Cloudflare documents nothing).
    return ok('ok');
  };

  app.post(
    '/:identifier/downloads',
    { schema: { operationId: 'stream-m-p-4-downloads-create-downloads', params: VideoParams, response: responses } },
    async (request) => create(request, request.params.account_id, request.params.identifier, 'default'),
  );
  app.post(
    '/:identifier/downloads/:type',
    { schema: { operationId: 'ministream-downloads-create-type', params: TypeParams, response: responses } },
    async (request) => create(request, request.params.account_id, request.params.identifier, request.params.type),
  );
  app.get(
    '/:identifier/downloads',
    { schema: { operationId: 'stream-m-p-4-downloads-list-downloads', params: VideoParams, response: responses } },
    async (request) => answer(request, findVideo(request.params.account_id, request.params.identifier).uid),
  );
  const deleted = { 200: Envelope(Type.String()), '4xx': FailureEnvelope };
  // Without a type, DELETE removes the `default` download (stream-behavior.md §3.5: "the type
  // defaults to default"); the audio download stays until DELETE .../downloads/audio.
  app.delete(
    '/:identifier/downloads',
    { schema: { operationId: 'stream-m-p-4-downloads-delete-downloads', params: VideoParams, response: deleted } },
    async (request) => remove(request.params.account_id, request.params.identifier, 'default'),
  );
  app.delete(
    '/:identifier/downloads/:type',
    { schema: { operationId: 'ministream-downloads-delete-type', params: TypeParams, response: deleted } },
    async (request) => remove(request.params.account_id, request.params.identifier, request.params.type),
  );
};

/** Cloudflare's rule for ?filename=: at most 120 of these characters; the extension is added. */
const FILENAME = /^[A-Za-z0-9_-]{1,120}$/;
const TYPE_OF_FILE = new Map<string, DownloadType>(DOWNLOAD_TYPES.map((t) => [DOWNLOAD_FILES[t], t]));

const FileParams = Type.Object({ id: Type.String(), file: Type.String() });
const FileQuery = Type.Object({ filename: Type.Optional(Type.String()) });

/** GET /<uid or token>/downloads/default.mp4 and /audio.m4a. */
export const downloadDeliveryRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { downloads, media } = app.ministream;
  // serve: false: files go out only through the route below, after the access check. This scope's
  // own registration (deliveryRoutes has its own): Range (206, 416), ETag and Last-Modified.
  await app.register(fastifyStatic, { root: media.root, serve: false, decorateReply: true });
  // A 416 must say the file's length (Content-Range: bytes */N); @fastify/send puts it on the error,
  // which the envelope's error handler renders without its headers.
  app.addHook('onError', async (_request, reply, error) => {
    const range = (error as { headers?: Record<string, string> }).headers?.['Content-Range'];
    if (range) reply.header('content-range', range);
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/:id/downloads/:file',
    schema: { operationId: 'ministream-download-file', params: FileParams, querystring: FileQuery },
    handler: async (request, reply) => {
      const { id, file } = request.params;
      const type = TYPE_OF_FILE.get(file);
      if (!type) throw Errors.deliveryNotFound();
      // With requireSignedURLs, only a token with downloadable: true opens the MP4.
      const video = await deliverableVideo(app, request, id, { ready: true, download: true });
      const { filename } = request.query;
      if (filename !== undefined && !FILENAME.test(filename)) {
        throw Errors.validation('querystring.filename must be 1 to 120 characters of A-Z, a-z, 0-9, _ and - (the extension is added)');
      }
      // ours: Cloudflare documents nothing for a download that is not ready (or was never made).
      if (downloads.get(video.uid, type)?.status !== 'ready') throw Errors.downloadNotReady();
      if (filename !== undefined) reply.header('content-disposition', `attachment; filename="${filename}.${file.split('.')[1]}"`);
      // A download may be deleted and made again: no long-lived caching.
      return reply.sendFile(`${video.uid}/downloads/${file}`, { acceptRanges: true, cacheControl: false });
    },
  });
};
