// Delivery of encoded video on Cloudflare's paths: /<uid>/manifest/video.m3u8 (HLS master),
// /<uid>/manifest/video.mpd (DASH), and the media playlists, init and media segments they name,
// which resolve relative to /<uid>/manifest/. Range requests (206), CORS and cache headers.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fastifyStatic from '@fastify/static';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { STREAM_FILES } from '../transcode/encode-job.js';
import { deliverableVideo, deliverableLiveInput } from './delivery-access.js';
// Captions and extra audio tracks (captions.ts, audio-tracks.ts) join the manifests here.
import { audioTrackFileDir, captionDeliveryFile, manifestText, replyText } from './delivery-extras.js';
import { bandwidthHintBps, keepNearestRepresentation, keepNearestVariant } from '../transcode/master-playlist.js';

/** Only names the muxer writes: no slashes, no dots but the extension's, so nothing leaves the folder. */
const SEGMENT_NAME = /^[A-Za-z0-9_-]+\.(m3u8|m4s|mp4)$/;

const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
};

const Params = Type.Object({ id: Type.String() });
/** Cloudflare's manifest parameter: only the representation nearest this many Mbps. */
export const ManifestQuery = Type.Object({ clientBandwidthHint: Type.Optional(Type.String({ maxLength: 32 })) });
const FileParams = Type.Object({ id: Type.String(), file: Type.String() });
const TrackFileParams = Type.Object({ id: Type.String(), track: Type.String(), file: Type.String() });

export const deliveryRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { media } = app.ministream;
  // serve: false: files go out only through the routes below, after the access check.
  await app.register(fastifyStatic, { root: media.root, serve: false, decorateReply: true });

  // `dir`: the folder inside the video's, by default the encode's (an audio track has its own).
  const send = (reply: FastifyReply, uid: string, file: string, segment: boolean, dir: string = STREAM_FILES.dir) => {
    const ext = file.slice(file.lastIndexOf('.') + 1);
    // Manifests may change (a re-encode); segments of a given encode never do.
    const maxAge = segment ? 86_400_000 : 10_000;
    reply.header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
    return reply.sendFile(`${uid}/${dir}/${file}`, { maxAge, acceptRanges: true, cacheControl: true, immutable: segment });
  };

  /** Cloudflare: the manifest of a live input with nothing live on it is an empty 204. */
  const notStarted = (reply: FastifyReply) => reply.code(204).header('cache-control', 'no-cache').send();

  // The HLS master and the DASH manifest: with ready captions or audio tracks they are built
  // (delivery-extras.ts), else ffmpeg's files; clientBandwidthHint keeps the nearest rendition.
  const manifests = [
    { kind: 'hls', url: '/:id/manifest/video.m3u8', operationId: 'ministream-hls-master', keepNearest: keepNearestVariant },
    { kind: 'dash', url: '/:id/manifest/video.mpd', operationId: 'ministream-dash-manifest', keepNearest: keepNearestRepresentation },
  ] as const;
  for (const { kind, url, operationId, keepNearest } of manifests) {
    app.get(url, { schema: { operationId, params: Params, querystring: ManifestQuery } }, async (request, reply) => {
      if (await deliverableLiveInput(app, request, request.params.id)) return notStarted(reply);
      const video = await deliverableVideo(app, request, request.params.id, { ready: true });
      const manifest = await manifestText(app.ministream, video, kind);
      const hint = bandwidthHintBps(request.query.clientBandwidthHint);
      return replyText(reply, hint === undefined ? manifest : { ...manifest, body: keepNearest(manifest.body, hint) });
    });
  }

  app.get('/:id/manifest/:file', { schema: { operationId: 'ministream-stream-file', params: FileParams } }, async (request, reply) => {
    const { id, file } = request.params;
    const video = await deliverableVideo(app, request, id, { ready: true });
    // captions_<lang>.m3u8 and captions_<lang>.vtt come from the caption store.
    const caption = await captionDeliveryFile(app.ministream, video, file);
    if (caption) return replyText(reply, caption);
    if (!SEGMENT_NAME.test(file)) throw Errors.deliveryNotFound();
    return send(reply, video.uid, file, !file.endsWith('.m3u8'));
  });

  // An extra audio track's playlist and segments, named relative to the master (audio/<track uid>/<file>).
  app.get('/:id/manifest/audio/:track/:file', { schema: { operationId: 'ministream-audio-track-file', params: TrackFileParams } }, async (request, reply) => {
    const { id, track, file } = request.params;
    const video = await deliverableVideo(app, request, id, { ready: true });
    const dir = audioTrackFileDir(app.ministream, video, track, file);
    return send(reply, video.uid, file, !file.endsWith('.m3u8'), dir);
  });
};
