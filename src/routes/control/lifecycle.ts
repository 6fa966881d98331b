// Lifecycle steering for tests, by video uid (any account):
//   POST /_ministream/videos/:uid/fail {errorReasonCode?, errorReasonText?}: state `error` now
//     (ERR_UNKNOWN by default); the webhook fires as for any error (the notifying store writes it).
//   POST /_ministream/videos/:uid/hold: the encode will not mark the video ready (it stays
//     `inprogress`) until POST .../release. Holds live in memory (src/control/holds.ts).
//   GET /_ministream/holds: the held uids.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors, VideoErrorReasons, type VideoErrorReason } from '../../errors.js';
import { failVideo } from '../../transcode/ingest.js';
import { Envelope, ok } from '../envelope.js';
import { presentVideo, publicOrigin } from '../present-video.js';
import { State, Video } from '../schemas/video.js';
import { OptionalBody, UidParams, controlSchema } from './schemas.js';

const FailBody = Type.Object({
  errorReasonCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: VideoErrorReasons.unknown.code })),
  errorReasonText: Type.Optional(Type.String({ maxLength: 1000 })),
});

const HoldState = Type.Object({
  uid: Type.String(),
  held: Type.Boolean(),
  state: Type.Union([State, Type.Null()]),
});

const KNOWN_REASONS = new Map<string, string>(Object.values(VideoErrorReasons).map((r) => [r.code, r.text]));

export const lifecycleRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, control, config } = app.ministream;
  const { holds } = control;

  const findVideo = (uid: string) => {
    const video = videos.findByUid(uid);
    if (!video) throw Errors.videoNotFound();
    return video;
  };

  app.post(
    '/_ministream/videos/:uid/fail',
    {
      schema: controlSchema('Put a video in state error now, with a chosen errorReasonCode', {
        operationId: 'ministream-video-fail',
        params: UidParams,
        body: OptionalBody(FailBody),
        response: { 200: Envelope(Video) },
      }),
    },
    async (request) => {
      const video = findVideo(request.params.uid);
      const code = request.body?.errorReasonCode ?? VideoErrorReasons.unknown.code;
      const text = request.body?.errorReasonText ?? KNOWN_REASONS.get(code) ?? `Failed on purpose (POST /_ministream/videos/${video.uid}/fail)`;
      // Any code a test names, Cloudflare's or not: the app under test decides what it makes of it.
      const failed = failVideo(videos, video, { code, text } as VideoErrorReason);
      // A held encode wakes up, sees the error and drops its stream (encode-job.ts).
      holds.release(video.uid);
      request.log.info({ uid: video.uid, code }, 'control: video failed on purpose');
      return ok(presentVideo(failed, publicOrigin(request, config.publicUrl)));
    },
  );

  app.post(
    '/_ministream/videos/:uid/hold',
    {
      schema: controlSchema('Keep a video from finishing: it stays inprogress until released', {
        operationId: 'ministream-video-hold',
        description: 'Answers 409 for a video that is already ready or errored. Holds are kept in memory: a restart releases them.',
        params: UidParams,
        response: { 200: Envelope(HoldState) },
      }),
    },
    async (request) => {
      const video = findVideo(request.params.uid);
      if (video.state === 'ready' || video.state === 'error') throw Errors.videoAlreadySettled(video.state);
      holds.hold(video.uid);
      return ok({ uid: video.uid, held: true, state: video.state });
    },
  );

  app.post(
    '/_ministream/videos/:uid/release',
    {
      schema: controlSchema('Let a held video finish', { operationId: 'ministream-video-release', params: UidParams, response: { 200: Envelope(HoldState) } }),
    },
    async (request) => {
      const { uid } = request.params;
      const released = holds.release(uid);
      const video = videos.findByUid(uid);
      if (!video && !released) throw Errors.videoNotFound();
      return ok({ uid, held: false, state: video?.state ?? null });
    },
  );

  app.get(
    '/_ministream/holds',
    { schema: controlSchema('List the held videos', { operationId: 'ministream-holds-list', response: { 200: Envelope(Type.Array(HoldState)) } }) },
    async () => ok(holds.list().map((uid) => ({ uid, held: true, state: videos.findByUid(uid)?.state ?? null }))),
  );
};
