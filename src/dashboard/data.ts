// What the dashboard's pages show, read straight from the stores (no HTTP, no API auth).
import { signToken } from '../access/signing.js';
import type { MinistreamContext } from '../context.js';
import type { AudioTrackRecord } from '../store/audio-track-store.js';
import type { CaptionRecord } from '../store/caption-store.js';
import type { DownloadRecord } from '../store/download-store.js';
import type { KeyStore, SigningKeyRecord } from '../store/key-store.js';
import type { StorageUsage, VideoRecord, VideoState } from '../store/video-types.js';
import type { WatermarkRecord } from '../store/watermark-store.js';
import type { DeliveryWithAttempts, Webhook } from '../store/webhook-store.js';
import { liveInputsOf, type LiveInputDetails, type LiveInputView } from './live-inputs.js';

/** States in which a video is still on its way to ready or error. */
export const BUSY_STATES: readonly VideoState[] = ['pendingupload', 'downloading', 'queued', 'inprogress'];
/** Busy states that move on their own (an upload waits for its client, which may never come back). */
const WORKING_STATES: readonly VideoState[] = ['downloading', 'queued', 'inprogress'];
/** The newest videos an account page lists. */
export const VIDEO_LIMIT = 200;
const DELIVERY_LIMIT = 50;

export interface ShownVideo {
  video: VideoRecord;
  /** What stands in delivery paths: the uid, or a token for a video with requireSignedURLs. */
  ref: string;
}

const HOUR_MS = 3_600_000;

/**
 * Delivery references for the dashboard's players and thumbnails. A video that requires signed
 * URLs is shown through a token signed with the account's own key (6 h, downloadable), reused
 * for 5 h so that refreshed rows keep the same <img> and <iframe> URLs.
 */
export class DeliveryRefs {
  private readonly tokens = new Map<string, { token: string; until: number }>();
  constructor(private readonly keys: KeyStore) {}

  async of(video: VideoRecord): Promise<string> {
    if (!video.requireSignedURLs) return video.uid;
    const cached = this.tokens.get(video.uid);
    if (cached && cached.until > Date.now()) return cached.token;
    const token = await signToken(this.keys, video.accountId, video.uid, { exp: Math.floor((Date.now() + 6 * HOUR_MS) / 1000), downloadable: true });
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(video.uid, { token, until: Date.now() + 5 * HOUR_MS });
    return token;
  }

  async shown(videos: VideoRecord[]): Promise<ShownVideo[]> {
    return Promise.all(videos.map(async (video) => ({ video, ref: await this.of(video) })));
  }
}

export interface AccountData {
  accountId: string;
  videos: ShownVideo[];
  totalVideos: number;
  storage: StorageUsage;
  webhook: Webhook | undefined;
  deliveries: DeliveryWithAttempts[];
  keys: SigningKeyRecord[];
  watermarks: WatermarkRecord[];
  /** Undefined when this Ministream has no live inputs. */
  liveInputs: LiveInputView[] | undefined;
  /** Something will change without the page doing anything: the page refreshes every second. */
  busy: boolean;
}

export async function accountData(ctx: MinistreamContext, refs: DeliveryRefs, accountId: string, liveDetails?: LiveInputDetails): Promise<AccountData> {
  const { videos, total } = ctx.videos.list(accountId, { limit: VIDEO_LIMIT });
  const deliveries = ctx.webhooks.listDeliveries({ accountId, limit: DELIVERY_LIMIT });
  return {
    accountId,
    videos: await refs.shown(videos),
    totalVideos: total,
    storage: ctx.videos.storageUsage(accountId),
    webhook: ctx.webhooks.get(accountId),
    deliveries,
    keys: ctx.keys.list(accountId),
    watermarks: ctx.watermarks.list(accountId),
    liveInputs: await liveInputsOf(ctx, accountId, liveDetails),
    busy: videos.some((v) => WORKING_STATES.includes(v.state)) || deliveries.some((d) => d.state === 'pending'),
  };
}

export interface VideoData extends ShownVideo {
  downloads: DownloadRecord[];
  captions: CaptionRecord[];
  audioTracks: AudioTrackRecord[];
  deliveries: DeliveryWithAttempts[];
  busy: boolean;
}

export async function videoData(ctx: MinistreamContext, refs: DeliveryRefs, accountId: string, uid: string): Promise<VideoData | undefined> {
  const video = ctx.videos.get(accountId, uid);
  if (!video) return undefined;
  const downloads = ctx.downloads.list(uid);
  const captions = ctx.captions.list(uid);
  const audioTracks = ctx.audioTracks.list(uid);
  const deliveries = ctx.webhooks.listDeliveries({ accountId, videoUid: uid, limit: DELIVERY_LIMIT });
  return {
    video,
    ref: await refs.of(video),
    downloads,
    captions,
    audioTracks,
    deliveries,
    busy:
      BUSY_STATES.includes(video.state) ||
      downloads.some((d) => d.status === 'inprogress') ||
      captions.some((c) => c.status === 'inprogress') ||
      audioTracks.some((t) => t.status === 'queued') ||
      deliveries.some((d) => d.state === 'pending'),
  };
}
