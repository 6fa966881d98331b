// TypeBox schemas of the video resource, after `stream_videos` in the official OpenAPI schema plus
// what the cloudflare SDK 7.3 adds (clippedFrom, maxSizeBytes, publicDetails, live-inprogress).
import { Type, type Static, type TSchema } from 'typebox';
import { VIDEO_STATES, type VideoState } from '../../store/video-types.js';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * For response schemas only: `{ type: [T, 'null'] }` instead of Nullable's anyOf. Both describe the
 * same values, but fast-json-stringify serializes an anyOf by running ajv (formats included) on
 * every value, while a type list is a typeof check. Requests keep Nullable and its error messages.
 */
export const NullableOut = <T extends TSchema & { type: string }>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });

export const Uid = Type.String({ maxLength: 32, description: 'A Stream identifier: 32 hex characters' });
export const DateTime = Type.String({ format: 'date-time' });
export const Meta = Type.Record(Type.String(), Type.Unknown(), { description: 'Free key-value metadata; meta.name names the video' });
export const Creator = Type.String({ maxLength: 64 });
export const State = Type.Unsafe<VideoState>({ type: 'string', enum: [...VIDEO_STATES] });

export const AccountParams = Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 32 }) });
export const VideoParams = Type.Object({
  account_id: Type.String({ minLength: 1, maxLength: 32 }),
  identifier: Type.String({ minLength: 1 }),
});

const publicDetailsOf = <S extends TSchema>(nullableString: S) =>
  Type.Object({
    title: Type.Optional(nullableString),
    share_link: Type.Optional(nullableString),
    channel_link: Type.Optional(nullableString),
    logo: Type.Optional(nullableString),
    media_id: Type.Optional(Type.Integer()),
  });
export const PublicDetails = publicDetailsOf(Nullable(Type.String()));

/** A response schema: its nullable fields are NullableOut. */
export const Video = Type.Object({
  allowedOrigins: Type.Array(Type.String()),
  clippedFrom: NullableOut(Type.String()),
  created: DateTime,
  creator: NullableOut(Type.String()),
  duration: Type.Number(),
  input: Type.Object({ height: Type.Integer(), width: Type.Integer() }),
  liveInput: NullableOut(Type.String()),
  maxDurationSeconds: NullableOut(Type.Integer()),
  maxSizeBytes: NullableOut(Type.Integer()),
  meta: Meta,
  modified: DateTime,
  playback: Type.Object({ hls: Type.String(), dash: Type.String() }),
  preview: Type.String(),
  publicDetails: NullableOut(publicDetailsOf(NullableOut(Type.String()))),
  readyToStream: Type.Boolean(),
  readyToStreamAt: NullableOut(DateTime),
  requireSignedURLs: Type.Boolean(),
  scheduledDeletion: NullableOut(DateTime),
  size: Type.Number(),
  status: Type.Object({
    state: State,
    pctComplete: Type.String(),
    errorReasonCode: Type.String(),
    errorReasonText: Type.String(),
  }),
  thumbnail: Type.String(),
  thumbnailTimestampPct: Type.Number(),
  uid: Uid,
  uploadExpiry: NullableOut(DateTime),
  uploaded: NullableOut(DateTime),
  watermark: NullableOut(Type.Record(Type.String(), Type.Unknown())),
});
export type VideoJson = Static<typeof Video>;

export const ListVideosQuery = Type.Object({
  after: Type.Optional(DateTime),
  before: Type.Optional(DateTime),
  start: Type.Optional(DateTime),
  end: Type.Optional(DateTime),
  asc: Type.Optional(Type.Boolean({ default: false })),
  include_counts: Type.Optional(Type.Boolean({ default: false })),
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'At most 1000 are returned whatever is asked' })),
  creator: Type.Optional(Creator),
  status: Type.Optional(Type.String({ description: 'One state, or a comma-separated list of states' })),
  type: Type.Optional(Type.Union([Type.Literal('vod'), Type.Literal('live')])),
  search: Type.Optional(Type.String()),
  video_name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String({ description: 'A uid or a comma-separated list of uids' })),
  name: Type.Optional(Type.String({ description: 'meta.name or uid, single or comma-separated' })),
  live_input_id: Type.Optional(Type.String()),
});
export type ListVideosQueryT = Static<typeof ListVideosQuery>;

export const EditVideoBody = Type.Object({
  allowedOrigins: Type.Optional(Type.Array(Type.String())),
  creator: Type.Optional(Nullable(Creator)),
  maxDurationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 21600 })),
  meta: Type.Optional(Meta),
  publicDetails: Type.Optional(PublicDetails),
  requireSignedURLs: Type.Optional(Type.Boolean()),
  scheduledDeletion: Type.Optional(Nullable(DateTime)),
  thumbnailTimestampPct: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  uid: Type.Optional(Uid),
  uploadExpiry: Type.Optional(Nullable(DateTime)),
});
export type EditVideoBodyT = Static<typeof EditVideoBody>;

export const StorageUsageQuery = Type.Object({ creator: Type.Optional(Creator) });
export const StorageUsage = Type.Object({
  creator: NullableOut(Type.String()),
  totalStorageMinutes: Type.Number(),
  totalStorageMinutesLimit: Type.Integer(),
  videoCount: Type.Integer(),
});
