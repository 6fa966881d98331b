// What the routes are given: the config, the stores and the media tools. Decorated onto Fastify
// as `app.ministream`, so that route plugins depend on interfaces, not on how they were built.
import type { Config } from './config.js';
import type { MediaStore } from './store/media-store.js';
import type { VideoStore } from './store/video-types.js';
import type { MediaTools } from './transcode/binaries.js';

export interface MinistreamContext {
  config: Config;
  videos: VideoStore;
  media: MediaStore;
  tools: MediaTools;
}

declare module 'fastify' {
  interface FastifyInstance {
    ministream: MinistreamContext;
  }
}
