// What the routes are given: the config, the stores and the media tools. Decorated onto Fastify
// as `app.ministream`, so that route plugins depend on interfaces, not on how they were built.
import type { Config } from './config.js';
import type { ControlPlane } from './control/control-plane.js';
import type { MediaStore } from './store/media-store.js';
import type { KeyStore } from './store/key-store.js';
import type { CaptionStore } from './store/caption-store.js';
import type { AudioTrackStore } from './store/audio-track-store.js';
import type { DownloadStore } from './store/download-store.js';
import type { WatermarkStore } from './store/watermark-store.js';
import type { UploadStore } from './store/upload-store.js';
import type { VideoStore } from './store/video-types.js';
import type { WebhookStore } from './store/webhook-store.js';
import type { AccountDirectory } from './store/account-directory.js';
import type { MediaTools } from './transcode/binaries.js';
import type { IngestDeps } from './transcode/ingest.js';
import type { UrlImporter } from './transcode/url-importer.js';
import type { LiveInputStore } from './store/live-input-store.js';
import type { LiveManager } from './live/live-manager.js';

export interface MinistreamContext {
  config: Config;
  videos: VideoStore;
  uploads: UploadStore;
  keys: KeyStore;
  /** Webhook subscriptions and the outbox of their deliveries. */
  webhooks: WebhookStore;
  /** Which accounts hold data, with counts (the dashboard's overview). */
  accounts: AccountDirectory;
  downloads: DownloadStore;
  watermarks: WatermarkStore;
  captions: CaptionStore;
  audioTracks: AudioTrackStore;
  /** Live inputs, their outputs and status history. */
  liveInputs: LiveInputStore;
  /** RTMP ingest and the broadcasts on now (src/live). */
  live: LiveManager;
  media: MediaStore;
  tools: MediaTools;
  importer: UrlImporter;
  /** What every upload path needs to turn a file into a queued video with its encode job. */
  ingest: IngestDeps;
  /** Runs `fn` in one SQLite transaction: every write in it lands, or none. */
  transaction<T>(fn: () => T): T;
  /** The control API's state for tests: holds, faults, request log, reset and seed (/_ministream/*). */
  control: ControlPlane;
}

declare module 'fastify' {
  interface FastifyInstance {
    ministream: MinistreamContext;
  }
}
