// Live inputs and their outputs (simulcast targets): /stream/live_inputs[/{id}[/outputs[/{output}]]],
// and the videos of an input (/stream/live_inputs/{id}/videos). Paths are relative to
// /client/v4/accounts/:account_id/stream. The RTMP ingest itself is src/live.
//
// Which protocols work: RTMP, at rtmp://HOST:RTMP_PORT/live/ with the input's stream key (the
// `rtmps` object; Ministream has no TLS, so the URL is rtmp://), and SRT at srt://HOST:<the input's
// own port> with its passphrase (the `srt` object; `srtPlayback` plays from another port; see
// src/live/srt-listeners.ts for why ports per input), and WebRTC: WHIP at `webRTC.url`, WHEP at
// `webRTCPlayback.url` (src/routes/webrtc.ts).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { Errors } from '../errors.js';
import {
  DEFAULT_LIVE_INPUT,
  RECORDING_MODES,
  type LiveInputRecord,
  type LiveInputSettings,
  type LiveOutputRecord,
} from '../store/live-input-store.js';
import { RTMP_APP } from '../live/rtmp-server.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { deliveryUrls, presentVideo, publicOrigin } from './present-video.js';
import { AccountParams, Creator, DateTime, Meta, Nullable, NullableOut, Uid, Video } from './schemas/video.js';

/** Cloudflare: an Idempotency-Key is scoped to the account, up to 255 bytes, and lives six hours. */
const IDEMPOTENCY_KEY_BYTES = 255;
const IDEMPOTENCY_TTL_MS = 6 * 3_600_000;
/** Cloudflare: at most 50 outputs per input. */
const MAX_OUTPUTS = 50;
/** Cloudflare's SRT port (live.cloudflare.com:778), shown when SRT is off here (nothing listens on it then). */
const CLOUDFLARE_SRT_PORT = 778;

const InputParams = Type.Object({
  account_id: Type.String({ minLength: 1, maxLength: 32 }),
  live_input_identifier: Type.String({ minLength: 1 }),
});
const OutputParams = Type.Object({ ...InputParams.properties, output_identifier: Type.String({ minLength: 1 }) });

const Mode = Type.Union(RECORDING_MODES.map((m) => Type.Literal(m)));
const RecordingBody = Type.Object({
  mode: Type.Optional(Mode),
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
  requireSignedURLs: Type.Optional(Type.Boolean()),
  allowedOrigins: Type.Optional(Nullable(Type.Array(Type.String()))),
  hideLiveViewerCount: Type.Optional(Type.Boolean()),
});
const InputBody = Type.Object({
  meta: Type.Optional(Meta),
  defaultCreator: Type.Optional(Nullable(Creator)),
  /** Cloudflare's docs example spells it so. */
  DefaultCreator: Type.Optional(Nullable(Creator)),
  enabled: Type.Optional(Type.Boolean()),
  deleteRecordingAfterDays: Type.Optional(Nullable(Type.Number({ minimum: 30, maximum: 1096 }))),
  preferLowLatency: Type.Optional(Type.Boolean()),
  recording: Type.Optional(RecordingBody),
  /** Cloudflare's docs page lists it at the top level; the schema puts it in `recording`. Both work. */
  timeoutSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
});
type InputBodyT = Static<typeof InputBody>;
const ListQuery = Type.Object({ include_counts: Type.Optional(Type.Boolean({ default: false })) });

const Credentials = Type.Object({ url: Type.String(), streamKey: Type.String() });
const SrtCredentials = Type.Object({ url: Type.String(), streamId: Type.String(), passphrase: Type.String() });
const UrlOnly = Type.Object({ url: Type.String() });
/** A response schema (schema stream_live_input plus what SDK 7.3 adds: enabled, playback, preferLowLatency, hideLiveViewerCount). */
const LiveInput = Type.Object({
  uid: Uid,
  created: DateTime,
  modified: DateTime,
  meta: Meta,
  status: NullableOut(Type.String()),
  enabled: Type.Boolean(),
  recording: Type.Object({
    mode: Type.String(),
    timeoutSeconds: Type.Integer(),
    requireSignedURLs: Type.Boolean(),
    allowedOrigins: Type.Optional(Type.Array(Type.String())),
    hideLiveViewerCount: Type.Boolean(),
  }),
  rtmps: Credentials,
  rtmpsPlayback: Credentials,
  srt: SrtCredentials,
  srtPlayback: SrtCredentials,
  webRTC: UrlOnly,
  webRTCPlayback: UrlOnly,
  playback: Type.Object({ hls: Type.String(), dash: Type.String() }),
  preferLowLatency: Type.Boolean(),
  deleteRecordingAfterDays: Type.Optional(Type.Number()),
  defaultCreator: Type.Optional(Type.String()),
});
const ListedInput = Type.Object({
  uid: Uid,
  created: DateTime,
  modified: DateTime,
  meta: Meta,
  enabled: Type.Boolean(),
  deleteRecordingAfterDays: Type.Optional(Type.Number()),
});
const LiveInputList = Type.Object({ liveInputs: Type.Array(ListedInput), range: Type.Integer(), total: Type.Integer() });

const Output = Type.Object({ uid: Uid, url: Type.String(), streamKey: Type.String(), enabled: Type.Boolean() });
const OutputBody = Type.Object({ url: Type.String({ minLength: 1 }), streamKey: Type.String(), enabled: Type.Optional(Type.Boolean()) });
const OutputUpdateBody = Type.Object({ enabled: Type.Boolean() });

/** null fields are left out, as the SDK types them (optional, not nullable). */
const optional = <K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> =>
  (value === null ? {} : { [key]: value }) as Partial<Record<K, V>>;

export function presentLiveInput(input: LiveInputRecord, origin: string, rtmpPort: number) {
  const host = new URL(origin).hostname;
  // Deliberate difference: Cloudflare's ingest is rtmps://live.cloudflare.com:443/live/; ours is plain RTMP on this host.
  const rtmp = `rtmp://${host}:${rtmpPort}/${RTMP_APP}/`;
  // Deliberate difference: Cloudflare takes SRT for every input on port 778 (by streamid); here each
  // input has its own ports, one to push to and one to play from.
  const srt = `srt://${host}:${input.srtPort ?? CLOUDFLARE_SRT_PORT}`;
  const { recording } = input;
  return {
    uid: input.uid,
    created: input.created,
    modified: input.modified,
    meta: input.meta,
    status: input.status,
    enabled: input.enabled,
    recording: {
      mode: recording.mode,
      timeoutSeconds: recording.timeoutSeconds,
      requireSignedURLs: recording.requireSignedURLs,
      ...optional('allowedOrigins', recording.allowedOrigins),
      hideLiveViewerCount: recording.hideLiveViewerCount,
    },
    rtmps: { url: rtmp, streamKey: input.streamKey },
    rtmpsPlayback: { url: rtmp, streamKey: input.playbackKey },
    srt: { url: srt, streamId: input.uid, passphrase: input.streamKey },
    srtPlayback: { url: `srt://${host}:${input.srtPlaybackPort ?? CLOUDFLARE_SRT_PORT}`, streamId: `play${input.uid}`, passphrase: input.playbackKey },
    webRTC: { url: `${origin}/${input.streamKey}/webRTC/publish` },
    webRTCPlayback: { url: `${origin}/${input.uid}/webRTC/play` },
    // The live input's own playback URLs (its current broadcast, see live-delivery.ts).
    playback: deliveryUrls(origin, input.uid).playback,
    preferLowLatency: input.preferLowLatency,
    ...optional('deleteRecordingAfterDays', input.deleteRecordingAfterDays),
    ...optional('defaultCreator', input.defaultCreator),
  };
}

const presentOutput = (o: LiveOutputRecord) => ({ uid: o.uid, url: o.url, streamKey: o.streamKey, enabled: o.enabled });

/** The settings a body sets on top of `base` (PUT: omitted fields do not change). */
function settingsFrom(body: InputBodyT | undefined, base: LiveInputSettings): Partial<LiveInputSettings> {
  if (!body) return {};
  const creator = body.defaultCreator !== undefined ? body.defaultCreator : body.DefaultCreator;
  const timeoutSeconds = body.recording?.timeoutSeconds ?? body.timeoutSeconds;
  const recording = body.recording || timeoutSeconds !== undefined
    ? {
      mode: body.recording?.mode ?? base.recording.mode,
      timeoutSeconds: timeoutSeconds ?? base.recording.timeoutSeconds,
      requireSignedURLs: body.recording?.requireSignedURLs ?? base.recording.requireSignedURLs,
      allowedOrigins: body.recording?.allowedOrigins !== undefined ? body.recording.allowedOrigins : base.recording.allowedOrigins,
      hideLiveViewerCount: body.recording?.hideLiveViewerCount ?? base.recording.hideLiveViewerCount,
    }
    : undefined;
  return {
    ...(body.meta !== undefined ? { meta: body.meta } : {}),
    ...(creator !== undefined ? { defaultCreator: creator } : {}),
    ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
    ...(body.deleteRecordingAfterDays !== undefined ? { deleteRecordingAfterDays: body.deleteRecordingAfterDays } : {}),
    ...(body.preferLowLatency !== undefined ? { preferLowLatency: body.preferLowLatency } : {}),
    ...(recording ? { recording } : {}),
  };
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (key === undefined || key === '') return undefined;
  if (Buffer.byteLength(key) > IDEMPOTENCY_KEY_BYTES) throw Errors.validation(`Idempotency-Key is limited to ${IDEMPOTENCY_KEY_BYTES} bytes`);
  return key;
}

const OUTPUT_URL = /^(rtmps?|srt):\/\/[^\s/]+/i;

export const liveInputRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { liveInputs, live, videos, config } = app.ministream;
  const fail = { '4xx': FailureEnvelope };
  const origin = (request: FastifyRequest) => publicOrigin(request, config.publicUrl);
  const present = (request: FastifyRequest, input: LiveInputRecord) => presentLiveInput(input, origin(request), live.rtmpPort);

  const findInput = (accountId: string, uid: string): LiveInputRecord => {
    const input = liveInputs.get(accountId, uid);
    if (!input) throw Errors.liveInputNotFound();
    return input;
  };

  app.post(
    '/live_inputs',
    { schema: { operationId: 'stream-live-inputs-create-a-live-input', params: AccountParams, body: Type.Optional(InputBody), response: { 200: Envelope(LiveInput), ...fail } } },
    async (request) => {
      const key = idempotencyKey(request);
      const settings = { ...DEFAULT_LIVE_INPUT, ...settingsFrom(request.body, DEFAULT_LIVE_INPUT) };
      const outcome = liveInputs.create(request.params.account_id, settings, key === undefined ? undefined : { key, ttlMs: IDEMPOTENCY_TTL_MS });
      // The same key again: the input it made, as it is now (the SDK's retries create nothing twice).
      if (outcome.kind === 'deleted') throw Errors.idempotencyKeyReused();
      // A new input gets its SRT port (and listener) before it is shown.
      const input = outcome.kind === 'created' ? await live.inputCreated(outcome.input) : outcome.input;
      return ok(present(request, input));
    },
  );

  app.get(
    '/live_inputs',
    { schema: { operationId: 'stream-live-inputs-list-live-inputs', params: AccountParams, querystring: ListQuery, response: { 200: Envelope(LiveInputList), ...fail } } },
    async (request) => {
      const inputs = liveInputs.list(request.params.account_id);
      // Not a page: the SDK unwraps {liveInputs, range, total} from `result`. No credentials here.
      return ok({
        liveInputs: inputs.map((i) => ({
          uid: i.uid, created: i.created, modified: i.modified, meta: i.meta, enabled: i.enabled,
          ...optional('deleteRecordingAfterDays', i.deleteRecordingAfterDays),
        })),
        range: inputs.length,
        total: inputs.length,
      });
    },
  );

  app.get(
    '/live_inputs/:live_input_identifier',
    { schema: { operationId: 'stream-live-inputs-retrieve-a-live-input', params: InputParams, response: { 200: Envelope(LiveInput), ...fail } } },
    async (request) => ok(present(request, findInput(request.params.account_id, request.params.live_input_identifier))),
  );

  app.put(
    '/live_inputs/:live_input_identifier',
    { schema: { operationId: 'stream-live-inputs-update-a-live-input', params: InputParams, body: Type.Optional(InputBody), response: { 200: Envelope(LiveInput), ...fail } } },
    async (request) => {
      const { account_id, live_input_identifier } = request.params;
      const input = findInput(account_id, live_input_identifier);
      const updated = liveInputs.update(account_id, input.uid, settingsFrom(request.body, input));
      if (!updated) throw Errors.liveInputNotFound();
      return ok(present(request, await live.inputChanged(updated)));
    },
  );

  app.delete(
    '/live_inputs/:live_input_identifier',
    { schema: { operationId: 'stream-live-inputs-delete-a-live-input', params: InputParams } },
    async (request, reply) => {
      const { account_id, live_input_identifier } = request.params;
      const input = findInput(account_id, live_input_identifier);
      // Cloudflare: deleting blocks current and future broadcasts; existing recordings are kept.
      liveInputs.delete(account_id, input.uid);
      live.inputDeleted(input.uid);
      // An empty 200, as video deletes answer (the SDK types it as void).
      return reply.code(200).type('text/plain; charset=utf-8').send('');
    },
  );

  app.get(
    '/live_inputs/:live_input_identifier/videos',
    { schema: { operationId: 'stream-live-inputs-list-videos', params: InputParams, response: { 200: Envelope(Type.Array(Video)), ...fail } } },
    async (request) => {
      const { account_id, live_input_identifier } = request.params;
      const input = findInput(account_id, live_input_identifier);
      // The broadcast live now (live-inprogress) and the recordings, newest first.
      const { videos: list } = videos.list(account_id, { liveInputId: input.uid });
      const at = origin(request);
      return ok(list.map((v) => presentVideo(v, at)));
    },
  );

  app.get(
    '/live_inputs/:live_input_identifier/outputs',
    {
      schema: {
        operationId: 'stream-live-inputs-list-all-outputs-associated-with-a-specified-live-input',
        params: InputParams,
        response: { 200: Envelope(Type.Array(Output)), ...fail },
      },
    },
    async (request) => {
      const input = findInput(request.params.account_id, request.params.live_input_identifier);
      return ok(liveInputs.outputs(input.uid).map(presentOutput));
    },
  );

  app.post(
    '/live_inputs/:live_input_identifier/outputs',
    {
      schema: {
        operationId: 'stream-live-inputs-create-a-new-output,-connected-to-a-live-input',
        params: InputParams,
        body: OutputBody,
        response: { 200: Envelope(Output), ...fail },
      },
    },
    async (request) => {
      const input = findInput(request.params.account_id, request.params.live_input_identifier);
      const { url, streamKey, enabled } = request.body;
      if (!OUTPUT_URL.test(url) || !URL.canParse(url)) throw Errors.invalidOutputUrl();
      if (liveInputs.outputs(input.uid).length >= MAX_OUTPUTS) throw Errors.tooManyOutputs(MAX_OUTPUTS);
      const output = liveInputs.addOutput(input, url, streamKey, enabled ?? true);
      live.outputsChanged(input.uid);
      return ok(presentOutput(output));
    },
  );

  app.put(
    '/live_inputs/:live_input_identifier/outputs/:output_identifier',
    { schema: { operationId: 'stream-live-inputs-update-an-output', params: OutputParams, body: OutputUpdateBody, response: { 200: Envelope(Output), ...fail } } },
    async (request) => {
      const input = findInput(request.params.account_id, request.params.live_input_identifier);
      const output = liveInputs.setOutputEnabled(input.uid, request.params.output_identifier, request.body.enabled);
      if (!output) throw Errors.liveOutputNotFound();
      live.outputsChanged(input.uid);
      return ok(presentOutput(output));
    },
  );

  app.delete(
    '/live_inputs/:live_input_identifier/outputs/:output_identifier',
    { schema: { operationId: 'stream-live-inputs-delete-an-output', params: OutputParams } },
    async (request, reply) => {
      const input = findInput(request.params.account_id, request.params.live_input_identifier);
      if (!liveInputs.deleteOutput(input.uid, request.params.output_identifier)) throw Errors.liveOutputNotFound();
      // A live push to it stops now (Cloudflare: within 30 s).
      live.outputsChanged(input.uid);
      return reply.code(200).type('text/plain; charset=utf-8').send('');
    },
  );
};
