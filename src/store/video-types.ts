// The domain shape of a video as the store holds it (no HTTP, no URLs: routes present it).

export const VIDEO_STATES = ['pendingupload', 'downloading', 'queued', 'inprogress', 'ready', 'error', 'live-inprogress'] as const;
export type VideoState = (typeof VIDEO_STATES)[number];

export interface PublicDetails {
  title: string | null;
  share_link: string | null;
  channel_link: string | null;
  logo: string | null;
  media_id?: number;
}

/** What a video keeps of its watermark profile: the profile object as shown, and its image. */
export interface WatermarkSnapshot {
  uid: string;
  opacity: number;
  padding: number;
  scale: number;
  position: 'upperRight' | 'upperLeft' | 'lowerLeft' | 'lowerRight' | 'center';
  /** The image file name under <data-dir>/watermarks (not shown in the API). */
  file: string;
}

export interface VideoRecord {
  accountId: string;
  uid: string;
  created: string;
  modified: string;
  uploaded: string | null;
  uploadExpiry: string | null;
  creator: string | null;
  meta: Record<string, unknown>;
  type: 'vod' | 'live';
  state: VideoState;
  /** 0..100; presented as a string, as Cloudflare sends it. */
  pctComplete: number;
  errorReasonCode: string;
  errorReasonText: string;
  readyToStream: boolean;
  readyToStreamAt: string | null;
  /** Seconds; -1 until known. */
  duration: number;
  inputWidth: number;
  inputHeight: number;
  /** Bytes of the original upload. */
  size: number;
  requireSignedURLs: boolean;
  allowedOrigins: string[];
  thumbnailTimestampPct: number;
  maxDurationSeconds: number | null;
  maxSizeBytes: number | null;
  scheduledDeletion: string | null;
  watermarkUid: string | null;
  /** A copy of the watermark profile the video was uploaded with (the image path included). */
  watermark: (WatermarkSnapshot & Record<string, unknown>) | null;
  liveInput: string | null;
  clippedFrom: string | null;
  publicDetails: PublicDetails | null;
  /** File name of the original upload inside the video's media folder. */
  sourceFile: string | null;
}

/** What a caller may set when creating a video; everything else takes the store's defaults. */
export type NewVideo = Pick<VideoRecord, 'accountId' | 'state'> &
  Partial<Omit<VideoRecord, 'accountId' | 'state' | 'created' | 'modified'>>;

/** The fields that `POST /stream/{uid}` (edit) and the system itself may change. */
export type VideoPatch = Partial<Omit<VideoRecord, 'accountId' | 'uid' | 'created' | 'modified'>>;

export interface VideoListQuery {
  /** Created strictly after this stored timestamp (`after` / `start`). */
  after?: string;
  /** Created strictly before this stored timestamp (`before` / `end`). */
  before?: string;
  asc?: boolean;
  limit?: number;
  creator?: string;
  states?: VideoState[];
  type?: 'vod' | 'live';
  /** Case-insensitive substring of meta.name. */
  search?: string;
  /** Exact meta.name. */
  videoName?: string;
  uids?: string[];
  /** Each entry matches meta.name exactly or the uid. */
  names?: string[];
  liveInputId?: string;
}

export interface VideoListResult {
  videos: VideoRecord[];
  /** Videos matching the filters, whatever the date window. */
  total: number;
  /** Videos matching the filters inside the date window, i.e. from the cursor on. */
  range: number;
}

export interface StorageUsage {
  videoCount: number;
  /** Stored minutes: durations rounded up to the second, plus reservations of pending uploads. */
  totalStorageMinutes: number;
}

/** The metadata store for videos. SQLite implements it; tests and later back ends may add others. */
export interface VideoStore {
  create(video: NewVideo): VideoRecord;
  get(accountId: string, uid: string): VideoRecord | undefined;
  /** Delivery paths name a video by uid alone. */
  findByUid(uid: string): VideoRecord | undefined;
  list(accountId: string, query: VideoListQuery): VideoListResult;
  update(accountId: string, uid: string, patch: VideoPatch): VideoRecord | undefined;
  delete(accountId: string, uid: string): boolean;
  storageUsage(accountId: string, creator?: string): StorageUsage;
  /** Videos whose scheduledDeletion has passed. */
  dueForDeletion(now: string): VideoRecord[];
}
