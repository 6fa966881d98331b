// What the routes are given: the config, the stores and the media tools. Decorated onto Fastify
// as `app.ministream`, so that route plugins depend on interfaces, not on how they were built.
import type { Config } from './config.js';
import type { MediaStore } from './store/media-store.js';
import type { KeyStore } from './store/key-store.js';
import type { UploadStore } from './store/upload-store.js';
import type { VideoStore } from './store/video-types.js';
import type { MediaTools } from './transcode/binaries.js';
import type { IngestDeps } from './transcode/ingest.js';
import type { UrlImporter } from './transcode/url-importer.js';

export interface MinistreamContext {
  config: Config;
  videos: VideoStore;
  uploads: UploadStore;
  keys: KeyStore;
  media: MediaStore;
  tools: MediaTools;
  importer: UrlImporter;
  /** What every upload path needs to turn a file into a queued video with its encode job. */
  ingest: IngestDeps;
  /** Runs `fn` in one SQLite transaction: every write in it lands, or none. */
  transaction<T>(fn: () => T): T;
}

declare module 'fastify' {
  interface FastifyInstance {
    ministream: MinistreamContext;
  }
}
