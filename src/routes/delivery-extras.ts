// Captions and extra audio tracks on the delivery paths (used by delivery.ts, after its access
// check): the HLS master and DASH manifest with them added, /<id>/manifest/captions_<lang>.m3u8
// and .vtt, and /<id>/manifest/audio/<track uid>/<file>. Every name is validated; nothing is read
// outside the video's folder.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import type { MinistreamContext } from '../context.js';
import { Errors } from '../errors.js';
import { AUDIO_DIR, audioTrackDir } from '../store/audio-track-store.js';
import { captionFile } from '../store/caption-store.js';
import { UID_PATTERN } from '../store/clock.js';
import type { VideoRecord } from '../store/video-types.js';
import { AUDIO_TRACK_FILES } from '../transcode/audio-track-job.js';
import { STREAM_FILES } from '../transcode/encode-job.js';
import {
  audioTrackPath,
  captionMediaPlaylist,
  composeDashManifest,
  composeMasterPlaylist,
  parseCaptionFileName,
} from '../transcode/master-playlist.js';

export interface TextFile {
  type: string;
  body: string;
}

const HLS = 'application/vnd.apple.mpegurl';
const VTT = 'text/vtt; charset=utf-8';
/** Only names the muxer writes inside a track's folder. */
const TRACK_FILE = /^[A-Za-z0-9_-]+\.(m3u8|m4s)$/;

/** Sends a built manifest or caption: short cache, as the manifests files get (they change with captions and tracks). */
export function replyText(reply: FastifyReply, file: TextFile): FastifyReply {
  return reply.header('cache-control', 'public, max-age=10').type(file.type).send(file.body);
}

function extras(ctx: MinistreamContext, uid: string) {
  return {
    captions: ctx.captions.list(uid).filter((c) => c.status === 'ready'),
    tracks: ctx.audioTracks.list(uid).filter((t) => t.status === 'ready'),
  };
}

const streamFile = (ctx: MinistreamContext, uid: string, name: string) => readFile(join(ctx.media.videoDir(uid), STREAM_FILES.dir, name), 'utf8');

/** The HLS master with the ready captions and tracks; undefined when there are none (serve ffmpeg's file as it is). */
async function composedMaster(ctx: MinistreamContext, video: VideoRecord): Promise<TextFile | undefined> {
  const { captions, tracks } = extras(ctx, video.uid);
  if (!captions.length && !tracks.length) return undefined;
  const master = await streamFile(ctx, video.uid, STREAM_FILES.master);
  return { type: HLS, body: composeMasterPlaylist(master, captions, tracks, (t) => audioTrackPath(t, AUDIO_TRACK_FILES.playlist)) };
}

/** The DASH manifest with the ready captions and tracks; undefined when there are none. */
async function composedDash(ctx: MinistreamContext, video: VideoRecord): Promise<TextFile | undefined> {
  const { captions, tracks } = extras(ctx, video.uid);
  if (!captions.length && !tracks.length) return undefined;
  const mpd = await streamFile(ctx, video.uid, STREAM_FILES.manifest);
  const dir = ctx.media.videoDir(video.uid);
  const withManifests = await Promise.all(
    tracks.map(async (t) => ({
      ...t,
      manifest: await readFile(join(audioTrackDir(dir, t.uid), AUDIO_TRACK_FILES.dir, AUDIO_TRACK_FILES.manifest), 'utf8').catch(() => ''),
    })),
  );
  return { type: 'application/dash+xml', body: composeDashManifest(mpd, captions, withManifests) };
}

/** A manifest as players get it (with captions and tracks, if any), as text to edit further. */
export async function manifestText(ctx: MinistreamContext, video: VideoRecord, kind: 'hls' | 'dash'): Promise<TextFile> {
  const composed = kind === 'hls' ? await composedMaster(ctx, video) : await composedDash(ctx, video);
  if (composed) return composed;
  const body = await streamFile(ctx, video.uid, kind === 'hls' ? STREAM_FILES.master : STREAM_FILES.manifest);
  return { type: kind === 'hls' ? HLS : 'application/dash+xml', body };
}

/**
 * captions_<lang>.m3u8 (a one-segment playlist) or captions_<lang>.vtt (the file itself) of a
 * ready caption; undefined when `file` is not a caption name at all.
 */
export async function captionDeliveryFile(ctx: MinistreamContext, video: VideoRecord, file: string): Promise<TextFile | undefined> {
  const wanted = parseCaptionFileName(file);
  if (!wanted) return undefined;
  const caption = ctx.captions.get(video.uid, wanted.language);
  if (caption?.status !== 'ready') throw Errors.deliveryNotFound();
  if (wanted.kind === 'm3u8') return { type: HLS, body: captionMediaPlaylist(caption.language, video.duration) };
  const body = await readFile(captionFile(ctx.media.videoDir(video.uid), caption.language), 'utf8').catch(() => undefined);
  if (body === undefined) throw Errors.deliveryNotFound();
  return { type: VTT, body };
}

/** The folder (relative to the media root) of a ready track's files, after checking both names. */
export function audioTrackFileDir(ctx: MinistreamContext, video: VideoRecord, trackUid: string, file: string): string {
  if (!UID_PATTERN.test(trackUid) || !TRACK_FILE.test(file)) throw Errors.deliveryNotFound();
  if (ctx.audioTracks.get(video.uid, trackUid)?.status !== 'ready') throw Errors.deliveryNotFound();
  return `${AUDIO_DIR}/${trackUid}/${AUDIO_TRACK_FILES.dir}`;
}
