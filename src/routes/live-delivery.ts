// Live delivery on Cloudflare's paths, while a broadcast is on: /<id>/manifest/video.m3u8 (the live
// HLS master), its variant playlists and segments, /<id>/iframe and /<id>/watch, where <id> is the
// live input's uid, the live video's uid, or a signed token naming either. The same paths serve
// recorded videos through delivery.ts and player.ts; a route constraint sends a request here only
// when its first path segment names a broadcast that is on (LiveManager.target), so both can stay.
// Also live instant clips (/<video id>/manifest/clip.m3u8 and /<video id>/clip.mp4, with
// ?time=&duration=; src/live/instant-clip.ts), /<id>/lifecycle (Cloudflare's: is it an input, which
// video is live), and Ministream's own /_ministream/live_inputs/<id>/status
// (the status and its history).
//
// Access follows Cloudflare: by the input's id, the input's recording.requireSignedURLs and
// recording.allowedOrigins apply; by the video's id, the video's own (copied from the input).
import { createReadStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ConstraintStrategy } from 'find-my-way';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { unverifiedSubject } from '../access/tokens.js';
import { Errors } from '../errors.js';
import { LIVE_FILE_NAME, LIVE_FILES } from '../live/live-transcoder.js';
import { clipWindow, cutClipMp4, MAX_CLIP_SECONDS } from '../live/instant-clip.js';
import { previewStart, readSegmentIndex, segmentPlaylist, TOP_VARIANT } from '../live/segment-index.js';
import { parseTime, thumbnailRequest, ThumbnailParams, ThumbnailQuery, THUMBNAIL_TYPES } from './thumbnails.js';
import { ThumbnailService } from '../transcode/thumbnails.js';
import { bandwidthHintBps, keepNearestVariant } from '../transcode/master-playlist.js';
import { ManifestQuery } from './delivery.js';
import type { LiveManager, LiveTarget } from '../live/live-manager.js';
import type { VideoRecord } from '../store/video-types.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { iframeHtml, watchHtml } from './player-page.js';
import { NullableOut } from './schemas/video.js';
import { grantFor, originPasses } from './delivery-access.js';
import { publicOrigin } from './present-video.js';

const CONSTRAINT = 'ministreamLive';
/** A flag of Cloudflare's query strings: present and not "false". */
const isSet = (v: string | undefined) => v !== undefined && v !== 'false';
const FIRST_SEGMENT = /^\/([^/?#]+)\//;
/** How long a playlist request waits for the first segment of a connected broadcast (hls.js gives up after 10 s). */
const FIRST_PLAYLIST_WAIT_MS = 8000;

/** The broadcast a path segment names: a uid, or (unverified here; the route verifies) a token's sub. */
function liveTargetOf(live: LiveManager, segment: string): LiveTarget | undefined {
  const direct = live.target(segment);
  if (direct) return direct;
  const sub = unverifiedSubject(segment);
  return sub === undefined ? undefined : live.target(sub);
}

/** Routes a request to the live routes when its first path segment names a broadcast that is on. */
function liveConstraint(live: LiveManager): ConstraintStrategy<never, string> {
  return {
    name: CONSTRAINT,
    storage() {
      const handlers = new Map<string, unknown>();
      return {
        get: (value: string) => (handlers.get(value) ?? null) as never,
        set: (value: string, handler: unknown) => void handlers.set(value, handler),
      };
    },
    deriveConstraint: (req: { url?: string }) => {
      const m = FIRST_SEGMENT.exec(req.url ?? '');
      return m && liveTargetOf(live, m[1]!) ? 'yes' : 'no';
    },
    mustMatchWhenDerived: false,
  };
}

interface LiveView {
  video: VideoRecord;
  target: LiveTarget;
  /** What the path named, a token resolved: the input's uid or the live video's. */
  named: string;
}

/**
 * The gate of live delivery: the checks of delivery-access.ts, with the input's recording settings
 * standing for a video's when the path names the input.
 */
async function liveGate(app: FastifyInstance, request: FastifyRequest, id: string): Promise<LiveView> {
  const { live, liveInputs, videos, config } = app.ministream;
  let named = id;
  let signed = false;
  let accountId: string | undefined;
  if (!live.target(id)) {
    const grant = await grantFor(app, request, id);
    named = grant.videoUid;
    accountId = grant.accountId;
    signed = true;
  }
  const target = live.target(named);
  const video = target && videos.findByUid(target.videoUid);
  if (!target || !video || (accountId !== undefined && video.accountId !== accountId)) throw Errors.deliveryNotFound();
  const input = named === target.inputUid ? liveInputs.findByUid(target.inputUid) : undefined;
  const policy = input
    ? { requireSignedURLs: input.recording.requireSignedURLs, allowedOrigins: input.recording.allowedOrigins ?? [] }
    : { requireSignedURLs: video.requireSignedURLs, allowedOrigins: video.allowedOrigins };
  if (policy.requireSignedURLs && !signed) {
    request.log.info({ id }, 'live delivery refused: a signed URL is required');
    throw Errors.signedUrlRequired();
  }
  if (!originPasses(request, policy.allowedOrigins, publicOrigin(request, config.publicUrl))) {
    request.log.info({ id, origin: request.headers.origin ?? request.headers.referer ?? null }, 'live delivery refused: origin not allowed');
    throw Errors.originForbidden();
  }
  return { video, target, named };
}

const Params = Type.Object({ id: Type.String() });
const FileParams = Type.Object({ id: Type.String(), file: Type.String() });
const Flag = Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('')]));
const PlayerQuery = Type.Object({ autoplay: Flag, muted: Flag, loop: Flag, controls: Flag, dvrEnabled: Flag });
/**
 * Cloudflare's live manifest parameters: clientBandwidthHint, dvrEnabled (HLS only) and duration (a
 * preview of the last 30s..5m); previewFrom is ours: a preview's variants, from that segment on.
 */
const LiveManifestQuery = Type.Object({
  ...ManifestQuery.properties,
  dvrEnabled: Flag,
  duration: Type.Optional(Type.String({ maxLength: 16 })),
  previewFrom: Type.Optional(Type.Integer({ minimum: 0 })),
});
/** Cloudflare: a preview manifest covers at most 5 minutes. */
const MAX_PREVIEW_SECONDS = 300;
const VARIANT_PLAYLIST = /^(v\d+)\.m3u8$/;
const ClipQuery = Type.Object({ time: Type.String(), duration: Type.String(), filename: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,120}$' })) });
const StatusHistory = Type.Object({
  uid: Type.String(),
  status: NullableOut(Type.String()),
  connected: Type.Boolean(),
  history: Type.Array(Type.Object({ status: Type.String(), videoUid: NullableOut(Type.String()), reason: NullableOut(Type.String()), at: Type.String() })),
});

export const liveDeliveryRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { live, media, liveInputs, videos } = app.ministream;
  app.addConstraintStrategy(liveConstraint(live));
  const constraints = { [CONSTRAINT]: 'yes' };

  const liveFile = (view: LiveView, file: string) => `${media.videoDir(view.video.uid)}/${LIVE_FILES.dir}/${file}`;
  const playlist = async (reply: FastifyReply, view: LiveView, path: string, edit: (text: string) => string = (t) => t, type = 'application/vnd.apple.mpegurl') => {
    let text = await readFile(path, 'utf8').catch(() => undefined);
    // Before the first segment is cut there is nothing to play yet: a player that asks as soon as
    // the encoder connects is answered when the playlist appears (within its manifest timeout).
    for (let waited = 0; text === undefined && waited < FIRST_PLAYLIST_WAIT_MS && live.isConnected(view.target.inputUid); waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      text = await readFile(path, 'utf8').catch(() => undefined);
    }
    if (text === undefined) throw Errors.deliveryNotReady();
    // Live playlists change every segment: never cached.
    return reply.type(type).header('cache-control', 'no-cache, no-store').send(edit(text));
  };

  /** A client asking for a playlist is watching (Cloudflare's liveViewers). */
  const watching = (request: FastifyRequest, view: LiveView) =>
    live.hlsViewers.saw(view.target.inputUid, `${request.ip}|${request.headers['user-agent'] ?? ''}`);

  app.get('/:id/manifest/video.m3u8', { constraints, schema: { operationId: 'ministream-live-hls-master', params: Params, querystring: LiveManifestQuery } }, async (request, reply) => {
    const view = await liveGate(app, request, request.params.id);
    watching(request, view);
    // ffmpeg cannot name the codecs of the stream-copied variant; players that switch between
    // variants (hls.js) need them, so they are added from what the encoder's headers said.
    const hint = bandwidthHintBps(request.query.clientBandwidthHint);
    // DVR: the variants answer the whole broadcast; a preview: from where its last `duration` starts.
    let variantQuery = isSet(request.query.dvrEnabled) ? 'dvrEnabled=true' : undefined;
    if (request.query.duration !== undefined) {
      const seconds = parseTime(request.query.duration);
      if (seconds === undefined || seconds <= 0 || seconds > MAX_PREVIEW_SECONDS) {
        throw Errors.validation(`querystring.duration must be a duration above 0 and at most ${MAX_PREVIEW_SECONDS / 60}m, e.g. 30s or 5m`);
      }
      const { position, start } = previewStart(await readSegmentIndex(liveFile(view, '.'), TOP_VARIANT), seconds);
      variantQuery = `previewFrom=${position}`;
      // Cloudflare's preview headers: where the preview starts in the broadcast, and the live video (for clips).
      reply.header('preview-start-seconds', String(start)).header('stream-media-id', view.video.uid);
    }
    const edit = (text: string) => {
      // Read when the master is sent, not when it was asked for: a request made as the encoder
      // connects waits for the first segment, and the encoder's headers arrive meanwhile.
      const codecs = live.codecsOf(view.video.uid);
      const withCodecs = codecs ? text.replace(/^(#EXT-X-STREAM-INF:(?:(?!CODECS=).)*)$/gm, `$1,CODECS="${codecs}"`) : text;
      const hinted = hint === undefined ? withCodecs : keepNearestVariant(withCodecs, hint);
      return variantQuery ? hinted.replace(/^(v\d+\.m3u8)$/gm, `$1?${variantQuery}`) : hinted;
    };
    return playlist(reply, view, liveFile(view, LIVE_FILES.master), edit);
  });

  app.get('/:id/manifest/:file', { constraints, schema: { operationId: 'ministream-live-stream-file', params: FileParams, querystring: LiveManifestQuery } }, async (request, reply) => {
    const { id, file } = request.params;
    const view = await liveGate(app, request, id);
    if (!LIVE_FILE_NAME.test(file)) throw Errors.deliveryNotFound();
    if (file.endsWith('.m3u8')) watching(request, view);
    const variant = VARIANT_PLAYLIST.exec(file)?.[1];
    const from = isSet(request.query.dvrEnabled) ? 0 : request.query.previewFrom;
    if (variant && from !== undefined) {
      const segments = (await readSegmentIndex(liveFile(view, '.'), variant)).slice(from);
      // Until the first segment is indexed, the live playlist stands in.
      if (segments.length > 0) return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-cache, no-store').send(segmentPlaylist(segments, 'EVENT'));
    }
    if (file.endsWith('.m3u8')) return playlist(reply, view, liveFile(view, file));
    const path = liveFile(view, file);
    const size = await stat(path).then((s) => s.size, () => undefined);
    if (size === undefined) throw Errors.deliveryNotFound();
    // An HLS segment, once listed, never changes; DASH names start over when the encoder reconnects.
    if (file.endsWith('.m4s')) return reply.type('video/iso.segment').header('content-length', size).header('cache-control', 'no-cache').send(createReadStream(path));
    return reply.type('video/mp2t').header('content-length', size).header('cache-control', 'public, max-age=86400, immutable').send(createReadStream(path));
  });

  // Live DASH (the broadcast's playback.dash): the stream as pushed, fMP4, from the same ffmpeg as the HLS ladder.
  app.get('/:id/manifest/video.mpd', { constraints, schema: { operationId: 'ministream-live-dash-manifest', params: Params } }, async (request, reply) => {
    const view = await liveGate(app, request, request.params.id);
    watching(request, view);
    return playlist(reply, view, liveFile(view, LIVE_FILES.dash), (text) => text, 'application/dash+xml');
  });

  /** The clip a request asks for: the live video's window, checked (Cloudflare: by the video's id only, at most 60 s). */
  const clipRequest = async (request: FastifyRequest, id: string, query: { time: string; duration: string }) => {
    const view = await liveGate(app, request, id);
    if (view.named === view.target.inputUid) throw Errors.deliveryNotFound();
    const time = parseTime(query.time);
    const duration = parseTime(query.duration);
    if (time === undefined) throw Errors.validation('querystring.time must be a number of seconds, e.g. 600s');
    if (duration === undefined || duration <= 0 || duration > MAX_CLIP_SECONDS) {
      throw Errors.validation(`querystring.duration must be a number of seconds above 0 and at most ${MAX_CLIP_SECONDS}, e.g. 30s`);
    }
    const liveDir = liveFile(view, '.');
    const window = await clipWindow(liveDir, time, duration);
    if ('error' in window) throw Errors.validation(window.error);
    return { view, liveDir, window, duration };
  };

  app.get('/:id/manifest/clip.m3u8', { constraints, schema: { operationId: 'ministream-live-clip-hls', params: Params, querystring: ClipQuery } }, async (request, reply) => {
    const { window } = await clipRequest(request, request.params.id, request.query);
    // Its segments are the live variant's (v0-NNNNN.ts, served above): relative URIs keep a token path.
    return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-cache').send(segmentPlaylist(window.segments, 'VOD'));
  });

  app.get('/:id/clip.mp4', { constraints, schema: { operationId: 'ministream-live-clip-mp4', params: Params, querystring: ClipQuery } }, async (request, reply) => {
    const { view, liveDir, window, duration } = await clipRequest(request, request.params.id, request.query);
    const out = media.incomingPath(`${view.video.uid}-clip-${process.hrtime.bigint()}.mp4`);
    let size: number;
    try {
      await cutClipMp4(app.ministream.tools.ffmpeg.path, liveDir, window, duration, out);
      ({ size } = await stat(out));
    } catch (err) {
      await rm(out, { force: true });
      // The broadcast ended and its segments went into the recording meanwhile.
      request.log.warn({ err: (err as Error).message }, 'live clip: cutting failed');
      throw Errors.deliveryNotFound();
    }
    const file = createReadStream(out);
    // The clip uses no storage: its file goes once sent (or once the viewer leaves).
    file.on('close', () => void rm(out, { force: true }));
    if (request.query.filename) reply.header('content-disposition', `attachment; filename="${request.query.filename}"`);
    return reply.type('video/mp4').header('content-length', size).header('cache-control', 'no-cache').send(file);
  });

  // Live thumbnails: from the broadcast's segments (a VOD list of them is what ffmpeg reads), at
  // `time` seconds of the broadcast; without a time, the latest second (Cloudflare shows the live picture).
  const liveThumbnails = new ThumbnailService(app.ministream.tools.ffmpeg.path, media);
  app.get('/:id/thumbnails/thumbnail.:ext', { constraints, schema: { operationId: 'ministream-live-thumbnail', params: ThumbnailParams, querystring: ThumbnailQuery } }, async (request, reply) => {
    const req = thumbnailRequest(request.params.ext, request.query);
    const view = await liveGate(app, request, request.params.id);
    const liveDir = liveFile(view, '.');
    const index = await readSegmentIndex(liveDir, TOP_VARIANT);
    if (index.length === 0) throw Errors.deliveryNotReady();
    const recorded = index.reduce((sum, seg) => sum + seg.duration, 0);
    const list = `${liveDir}/.thumbnail-${process.hrtime.bigint()}.m3u8`;
    await writeFile(list, segmentPlaylist(index, 'VOD'));
    try {
      const path = await liveThumbnails.fromSource(list, `${liveDir}/thumbnails`, recorded, 1, req);
      // The latest picture changes with every segment: a short cache.
      return reply.header('cache-control', 'public, max-age=2').type(THUMBNAIL_TYPES[req.format]).send(await readFile(path));
    } finally {
      await rm(list, { force: true });
    }
  });

  const titleOf = (video: VideoRecord) => (typeof video.meta.name === 'string' && video.meta.name ? video.meta.name : video.uid);

  app.get('/:id/iframe', { constraints, schema: { operationId: 'ministream-live-player-iframe', params: Params, querystring: PlayerQuery } }, async (request, reply) => {
    const { video, target } = await liveGate(app, request, request.params.id);
    const q = request.query;
    const flag = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : v !== 'false');
    // The player of recorded videos; a live stream has no startTime and no poster yet. It shows
    // the viewer count unless the input hides it (recording.hideLiveViewerCount).
    const hideCount = liveInputs.findByUid(target.inputUid)?.recording.hideLiveViewerCount ?? true;
    const html = iframeHtml(titleOf(video), {
      autoplay: flag(q.autoplay, false), muted: flag(q.muted, false), loop: false, controls: flag(q.controls, true),
      preload: 'auto', poster: '', startTime: 0, primaryColor: undefined, dvr: isSet(q.dvrEnabled), viewerCount: !hideCount,
    });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
  });

  app.get('/:id/watch', { constraints, schema: { operationId: 'ministream-live-player-watch', params: Params } }, async (request, reply) => {
    const { video } = await liveGate(app, request, request.params.id);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(watchHtml(titleOf(video), 'iframe'));
  });

  // Cloudflare's live viewer count, by the input's id (or its live video's): {"liveViewers": N}.
  app.get('/:id/views', { schema: { operationId: 'ministream-live-views', params: Params } }, async (request, reply) => {
    // A token stands for its input or video, as on every delivery path (the player asks through one).
    const id = unverifiedSubject(request.params.id) === undefined ? request.params.id : (await grantFor(app, request, request.params.id)).videoUid;
    const inputUid = liveInputs.findByUid(id)?.uid ?? videos.findByUid(id)?.liveInput ?? undefined;
    if (!inputUid) throw Errors.deliveryNotFound();
    return reply.header('cache-control', 'no-cache').send({ liveViewers: live.viewerCount(inputUid) });
  });

  // Cloudflare's lifecycle endpoint (on its customer host; here on Ministream's origin), for inputs and videos.
  app.get('/:id/lifecycle', { schema: { operationId: 'ministream-live-lifecycle', params: Params } }, async (request) => {
    const { id } = request.params;
    const target = live.target(id);
    // A WHIP publisher is live too (it has no video: WebRTC broadcasts are not recorded).
    if (liveInputs.findByUid(id)) return { isInput: true, videoUID: target?.videoUid ?? null, live: live.isConnected(id) || live.webrtc.isLive(id) };
    const video = videos.findByUid(id);
    if (!video) throw Errors.deliveryNotFound();
    return { isInput: false, videoUID: video.uid, live: video.state === 'live-inprogress' && target !== undefined && live.isConnected(target.inputUid) };
  });

  // Ministream's own (no Cloudflare counterpart, outside /client/v4 like /_ministream/webhooks):
  // an input's status and every change of it, oldest first.
  app.get('/_ministream/live_inputs/:id/status', { schema: { operationId: 'ministream-live-input-status', params: Params, response: { 200: Envelope(StatusHistory), '4xx': FailureEnvelope } } }, async (request) => {
    const input = liveInputs.findByUid(request.params.id);
    if (!input) throw Errors.liveInputNotFound();
    return ok({ uid: input.uid, status: input.status, connected: live.isConnected(input.uid), history: liveInputs.statusHistory(input.uid) });
  });

};
