// Extra audio tracks of a video: add by URL (POST .../audio/copy) or by file (POST .../audio,
// multipart `file` + `label`), list, edit (label, default) and delete. Paths are relative to
// /client/v4/accounts/:account_id/stream. Each track is encoded by an `audio-track` job; ready
// tracks join the HLS master as alternate audio renditions (delivery-extras.ts).
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, Errors } from '../errors.js';
import { AUDIO_TRACK_STATUSES, audioTrackDir, type AudioTrackRecord, type AudioTrackStatus } from '../store/audio-track-store.js';
import { newUid } from '../store/clock.js';
import type { VideoRecord } from '../store/video-types.js';
import { AUDIO_TRACK_FILES, AUDIO_TRACK_JOB, type AudioTrackJobPayload } from '../transcode/audio-track-job.js';
import { ffprobe } from '../transcode/ffmpeg.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { receiveForm, registerMultipart } from './multipart-file.js';
import { VideoParams } from './schemas/video.js';
import { findVideo } from './video-child.js';

/** Cloudflare's limit on an uploaded audio track. */
export const MAX_AUDIO_BYTES = 200 * 1000 * 1000;

export const AudioTrack = Type.Object({
  uid: Type.String(),
  label: Type.String(),
  default: Type.Boolean(),
  status: Type.Unsafe<AudioTrackStatus>({ type: 'string', enum: [...AUDIO_TRACK_STATUSES] }),
});

const TrackParams = Type.Object({ ...VideoParams.properties, audio_identifier: Type.String({ minLength: 1 }) });
const Label = Type.String({ minLength: 1, maxLength: 256 });
const CopyBody = Type.Object({ label: Label, url: Type.Optional(Type.String()) });
const EditBody = Type.Object({ label: Type.Optional(Label), default: Type.Optional(Type.Boolean()) });

export const presentTrack = (t: AudioTrackRecord) => ({ uid: t.uid, label: t.label, default: t.isDefault, status: t.status });

function absoluteHttpUrl(raw: string | undefined): string {
  try {
    const url = new URL(raw ?? '');
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // refused below
  }
  throw Errors.invalidSourceUrl();
}

export const audioTrackRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { videos, audioTracks, media, ingest, transaction, tools } = app.ministream;
  await registerMultipart(app, MAX_AUDIO_BYTES);

  /**
   * The video a track may be added to: its file must be in (the track is cut or padded to its
   * duration). ours: Cloudflare documents nothing for a video still uploading or in error.
   */
  const videoForNewTrack = (accountId: string, identifier: string, label: string): VideoRecord => {
    const video = findVideo(videos, accountId, identifier);
    if (!(video.duration > 0) || video.state === 'error') throw Errors.videoNotReadyFor('add audio tracks');
    if (audioTracks.byLabel(video.uid, label)) throw Errors.audioLabelTaken();
    return video;
  };

  /** The track row and its job, in one transaction. */
  const queueTrack = (video: VideoRecord, uid: string, label: string, sourceUrl: string | null) =>
    transaction(() => {
      const track = audioTracks.add({ uid, accountId: video.accountId, videoUid: video.uid, label, sourceUrl });
      const payload: AudioTrackJobPayload = { trackUid: uid };
      ingest.queue.enqueue({ kind: AUDIO_TRACK_JOB, accountId: video.accountId, videoUid: video.uid, payload: { ...payload } });
      return track;
    });

  const findTrack = (videoUid: string, uid: string): AudioTrackRecord => {
    const track = audioTracks.get(videoUid, uid);
    if (!track) throw Errors.audioTrackNotFound();
    return track;
  };

  app.get(
    '/:identifier/audio',
    {
      schema: {
        operationId: 'list-audio-tracks',
        params: VideoParams,
        // SDK 7.3 expects {audio: [...]}, as Cloudflare's docs show; the 2024 schema says a bare array.
        response: { 200: Envelope(Type.Object({ audio: Type.Array(AudioTrack) })), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      return ok({ audio: audioTracks.list(video.uid).map(presentTrack) });
    },
  );

  app.post(
    '/:identifier/audio/copy',
    { schema: { operationId: 'add-audio-track', params: VideoParams, body: CopyBody, response: { 200: Envelope(AudioTrack), '4xx': FailureEnvelope } } },
    async (request) => {
      const { label } = request.body;
      const url = absoluteHttpUrl(request.body.url);
      const video = videoForNewTrack(request.params.account_id, request.params.identifier, label);
      return ok(presentTrack(queueTrack(video, newUid(), label, url)));
    },
  );

  app.post(
    '/:identifier/audio',
    {
      schema: {
        operationId: 'ministream-add-audio-track-file',
        summary: 'Add an audio track by file: multipart/form-data with "file" (at most 200 MB) and "label"',
        consumes: ['multipart/form-data'],
        params: VideoParams,
        response: { 200: Envelope(AudioTrack), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const params = request.params;
      findVideo(videos, params.account_id, params.identifier); // 400/404 before reading the body
      let form;
      try {
        form = await receiveForm(request, media, MAX_AUDIO_BYTES, 'audio');
      } catch (err) {
        throw err instanceof ApiError && err.status === 413 ? Errors.audioTooLarge(MAX_AUDIO_BYTES) : err;
      }
      const file = form.file;
      try {
        if (!file) throw Errors.missingFile();
        const label = form.fields.label ?? '';
        if (!label) throw Errors.validation('body.label is required');
        const video = videoForNewTrack(params.account_id, params.identifier, label);
        const probe = await ffprobe(tools.ffprobe.path, file.path).catch(() => undefined);
        if (!probe?.streams.some((s) => s.codec_type === 'audio')) throw Errors.notAnAudioFile();
        const uid = newUid();
        const dir = audioTrackDir(media.videoDir(video.uid), uid);
        await mkdir(dir, { recursive: true });
        await rename(file.path, join(dir, AUDIO_TRACK_FILES.source));
        try {
          return ok(presentTrack(queueTrack(video, uid, label, null)));
        } catch (err) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
      } finally {
        if (file) await rm(file.path, { force: true }); // still there only when refused
      }
    },
  );

  app.patch(
    '/:identifier/audio/:audio_identifier',
    { schema: { operationId: 'edit-audio-tracks', params: TrackParams, body: EditBody, response: { 200: Envelope(AudioTrack), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      const track = findTrack(video.uid, request.params.audio_identifier);
      const { label, default: isDefault } = request.body ?? {};
      const holder = label === undefined ? undefined : audioTracks.byLabel(video.uid, label);
      if (holder && holder.uid !== track.uid) throw Errors.audioLabelTaken();
      const edited = audioTracks.edit(video.uid, track.uid, { label, isDefault });
      if (!edited) throw Errors.audioTrackNotFound();
      return ok(presentTrack(edited));
    },
  );

  app.delete(
    '/:identifier/audio/:audio_identifier',
    { schema: { operationId: 'delete-audio-tracks', params: TrackParams, response: { 200: Envelope(Type.String()), '4xx': FailureEnvelope } } },
    async (request) => {
      const video = findVideo(videos, request.params.account_id, request.params.identifier);
      const track = findTrack(video.uid, request.params.audio_identifier);
      if (track.isDefault) throw Errors.defaultAudioTrack();
      audioTracks.delete(video.uid, track.uid);
      await rm(audioTrackDir(media.videoDir(video.uid), track.uid), { recursive: true, force: true });
      return ok('ok');
    },
  );
};
