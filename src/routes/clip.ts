// Clipping: POST /stream/clip makes a NEW video out of [startTimeSeconds, endTimeSeconds) of a
// ready video of the account. It answers at once (state `queued`, clippedFrom set); the `clip` job
// cuts the source's original and hands the new video to the normal encode.
// Paths are relative to /client/v4/accounts/:account_id/stream.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { Errors } from '../errors.js';
import { UID_PATTERN } from '../store/clock.js';
import { CLIP_JOB, type ClipPayload } from '../transcode/clip-job.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { presentVideo, publicOrigin } from './present-video.js';
import { AccountParams, Uid, Video } from './schemas/video.js';
import { UploadOptionsFields, videoOptionsFromBody, withWatermark } from './upload-options.js';

/** Cloudflare refuses videos shorter than a tenth of a second; a clip is no exception. */
const MIN_CLIP_SECONDS = 0.1;

const ClipBody = Type.Object({
  clippedFromVideoUID: Uid,
  // SDK 7.3 types both as numbers (the 2024 schema: integers): fractions of a second are taken.
  // The range is checked in the handler, so that every bad range gets the same clear message.
  startTimeSeconds: Type.Number(),
  endTimeSeconds: Type.Number(),
  // allowedOrigins, creator, meta, requireSignedURLs, scheduledDeletion, thumbnailTimestampPct, watermark.
  ...UploadOptionsFields,
  // In the 2024 schema, not in SDK 7.3's params; kept, and checked against the cut as on uploads.
  maxDurationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 21600 })),
  // SDK 7.3: "a name for the video", stored as meta.name like /copy's `name`.
  name: Type.Optional(Type.String()),
  // SDK 7.3 also lists `input` and `url` (a video's URL); Cloudflare documents clipping only of a
  // video of the account, so they are refused rather than silently ignored.
  input: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
});
type ClipBodyT = Static<typeof ClipBody>;

/**
 * The answer. The 2024 schema's clip result (`stream_clipping`) has `status` as a bare state string;
 * SDK 7.3 types the result as a full Video, with the status object, and the SDK wins: the full video
 * object, plus the three clip fields of the 2024 result (clippedFromVideoUID, startTimeSeconds,
 * endTimeSeconds), which the SDK's Video type does not forbid and strict 2024 clients expect.
 */
const ClipVideo = Type.Object({
  ...Video.properties,
  clippedFromVideoUID: Uid,
  startTimeSeconds: Type.Number(),
  endTimeSeconds: Type.Number(),
});

function checkRange(body: ClipBodyT, sourceDuration: number): void {
  const { startTimeSeconds: start, endTimeSeconds: end } = body;
  if (start < 0) throw Errors.clipOutsideSource(`startTimeSeconds ${start} is before the start of the video`);
  if (end <= start) throw Errors.clipOutsideSource(`endTimeSeconds ${end} must be after startTimeSeconds ${start}`);
  if (end > sourceDuration) throw Errors.clipOutsideSource(`endTimeSeconds ${end} is past the source's duration of ${sourceDuration} s`);
  if (end - start < MIN_CLIP_SECONDS) throw Errors.validation(`a clip must last at least ${MIN_CLIP_SECONDS} s`);
}

export const clipRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, watermarks, ingest, config, transaction } = app.ministream;

  app.post(
    '/clip',
    {
      schema: {
        operationId: 'stream-video-clipping-clip-videos-given-a-start-and-end-time',
        params: AccountParams,
        body: ClipBody,
        response: { 200: Envelope(ClipVideo), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const body = request.body;
      const accountId = request.params.account_id;
      if (body.input !== undefined || body.url !== undefined) {
        throw Errors.validation('clipping from input/url is not supported: name a video of the account in clippedFromVideoUID');
      }
      if (!UID_PATTERN.test(body.clippedFromVideoUID)) throw Errors.validation('clippedFromVideoUID must be a video uid (32 hex characters)');
      const source = videos.get(accountId, body.clippedFromVideoUID);
      if (!source) throw Errors.clipSourceNotFound();
      if (!source.readyToStream || !source.sourceFile) throw Errors.videoNotReadyFor('clip it');
      checkRange(body, source.duration);

      // Nothing is inherited from the source but the pointer to it: options come from the body
      // (in particular, the source's scheduledDeletion is not carried over, as on Cloudflare; nor
      // its watermark: the cut is made from the source's original, and the clip's own watermark,
      // if the body names one, is overlaid when the clip is encoded).
      const options = withWatermark(watermarks, accountId, videoOptionsFromBody(body));
      const meta = body.name !== undefined ? { ...body.meta, name: body.name } : body.meta;
      const payload: ClipPayload = {
        source: source.uid,
        sourceFile: source.sourceFile,
        startTimeSeconds: body.startTimeSeconds,
        endTimeSeconds: body.endTimeSeconds,
      };
      const clip = transaction(() => {
        const v = videos.create({ ...options, meta, maxDurationSeconds: body.maxDurationSeconds, accountId, state: 'queued', clippedFrom: source.uid });
        ingest.queue.enqueue({ kind: CLIP_JOB, accountId, videoUid: v.uid, payload: { ...payload } });
        return v;
      });
      return ok({
        ...presentVideo(clip, publicOrigin(request, config.publicUrl)),
        clippedFromVideoUID: source.uid,
        startTimeSeconds: body.startTimeSeconds,
        endTimeSeconds: body.endTimeSeconds,
      });
    },
  );
};
