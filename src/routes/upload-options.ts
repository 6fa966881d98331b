// The upload options every upload path shares (direct_upload and copy bodies, tus Upload-Metadata),
// turned into the fields of a new video, with Cloudflare's rules.
import { Type, type Static } from 'typebox';
import { Errors } from '../errors.js';
import { normalizeTimestamp } from '../store/clock.js';
import type { NewVideo } from '../store/video-types.js';
import { watermarkJson, type WatermarkStore } from '../store/watermark-store.js';
import { Creator, DateTime, Meta, Nullable, Uid } from './schemas/video.js';

const DAY_MS = 86_400_000;

export const UploadOptionsFields = {
  allowedOrigins: Type.Optional(Type.Array(Type.String())),
  creator: Type.Optional(Creator),
  meta: Type.Optional(Meta),
  requireSignedURLs: Type.Optional(Type.Boolean()),
  scheduledDeletion: Type.Optional(Nullable(DateTime)),
  thumbnailTimestampPct: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  watermark: Type.Optional(Type.Object({ uid: Type.Optional(Uid) })),
};
export const UploadOptions = Type.Object(UploadOptionsFields);
export type UploadOptionsT = Static<typeof UploadOptions>;

export type VideoOptions = Omit<NewVideo, 'accountId' | 'state'>;

/** Cloudflare: a scheduled deletion must fall 30 to 1,096 days after the video's creation. */
export function checkScheduledDeletion(createdIso: string, value: string): string {
  const at = normalizeTimestamp(value);
  if (!at) throw Errors.validation('scheduledDeletion must be an RFC 3339 date-time');
  const days = (Date.parse(at) - Date.parse(createdIso)) / DAY_MS;
  if (days < 30 || days > 1096) {
    throw Errors.validation('scheduledDeletion must be between 30 and 1096 days after the video was created');
  }
  return at;
}

/** JSON upload options (direct_upload, copy) to video fields; `creatorHeader` is Upload-Creator. */
export function videoOptionsFromBody(body: UploadOptionsT, creatorHeader?: string): VideoOptions {
  const now = new Date().toISOString();
  const creator = body.creator ?? (creatorHeader || undefined);
  if (creator !== undefined && creator.length > 64) throw Errors.validation('Upload-Creator must be at most 64 characters');
  return {
    allowedOrigins: body.allowedOrigins,
    creator,
    meta: body.meta,
    requireSignedURLs: body.requireSignedURLs,
    scheduledDeletion: body.scheduledDeletion ? checkScheduledDeletion(now, body.scheduledDeletion) : undefined,
    thumbnailTimestampPct: body.thumbnailTimestampPct,
    watermarkUid: body.watermark?.uid,
  };
}

/** tus Upload-Metadata (already base64-decoded by @tus/server; a valueless flag is null). */
export type TusMetadata = Record<string, string | null | undefined>;

export interface TusOptions extends VideoOptions {
  /** `expiry`: until when the upload may be finished. */
  expiresAt?: string;
}

function parsePct(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw Errors.validation('thumbnailtimestamppct must be a number from 0 to 1');
  return n;
}

function parseMaxDuration(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 21600) throw Errors.validation('maxDurationSeconds must be an integer from 1 to 21600');
  return n;
}

function parseExpiry(value: string): string {
  const at = normalizeTimestamp(value);
  if (!at) throw Errors.validation('expiry must be an RFC 3339 date-time');
  if (Date.parse(at) <= Date.now()) throw Errors.validation('expiry must be in the future');
  return at;
}

/**
 * Maps Upload-Metadata keys the way Stream does: keys are matched without regard to case
 * (the docs write maxDurationSeconds, clients send maxdurationseconds); flags count by presence
 * (`requiresignedurls` with or without a value); unknown keys land in `meta` as sent.
 */
export function videoOptionsFromTusMetadata(metadata: TusMetadata, creatorHeader?: string): TusOptions {
  const meta: Record<string, unknown> = {};
  const out: TusOptions = {};
  for (const [key, raw] of Object.entries(metadata)) {
    const value = raw ?? '';
    switch (key.toLowerCase()) {
      case 'name':
        meta.name = value;
        break;
      case 'requiresignedurls':
        out.requireSignedURLs = true;
        break;
      case 'allowedorigins':
        out.allowedOrigins = value.split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case 'thumbnailtimestamppct':
        out.thumbnailTimestampPct = parsePct(value);
        break;
      case 'watermark':
        if (!/^[0-9a-f]{32}$/.test(value)) throw Errors.validation('watermark must be a watermark profile uid');
        out.watermarkUid = value;
        break;
      case 'scheduleddeletion':
        out.scheduledDeletion = checkScheduledDeletion(new Date().toISOString(), value);
        break;
      case 'expiry':
        out.expiresAt = parseExpiry(value);
        break;
      case 'maxdurationseconds':
        out.maxDurationSeconds = parseMaxDuration(value);
        break;
      default:
        meta[key] = value;
    }
  }
  if (creatorHeader) {
    if (creatorHeader.length > 64) throw Errors.validation('Upload-Creator must be at most 64 characters');
    out.creator = creatorHeader;
  }
  out.meta = meta;
  return out;
}

/**
 * A watermark uid in the options becomes the video's copy of that profile (Cloudflare shows the
 * whole profile on the video); an unknown uid is refused.
 */
export function withWatermark<T extends VideoOptions>(watermarks: WatermarkStore, accountId: string, options: T): T {
  if (!options.watermarkUid) return options;
  const profile = watermarks.get(accountId, options.watermarkUid);
  if (!profile) throw Errors.validation(`watermark ${options.watermarkUid} is not a watermark profile of this account`);
  return { ...options, watermark: { ...watermarkJson(profile), file: profile.file } };
}
