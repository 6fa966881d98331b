// Starts and stops a Ministream instance: data folder, SQLite store, media tools, HTTP server.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import type { MinistreamContext } from './context.js';
import { openDatabase, type Db } from './store/database.js';
import { MediaStore } from './store/media-store.js';
import { SqliteVideoStore } from './store/sqlite-video-store.js';
import { Sweeper } from './store/sweeper.js';
import { SqliteJobStore } from './store/job-store.js';
import { SqliteKeyStore } from './store/key-store.js';
import { SqliteCaptionStore } from './store/caption-store.js';
import { SqliteAudioTrackStore } from './store/audio-track-store.js';
import { SqliteDownloadStore } from './store/download-store.js';
import { SqliteWatermarkStore } from './store/watermark-store.js';
import { SqliteUploadStore } from './store/upload-store.js';
import { NotifyingVideoStore } from './store/notifying-video-store.js';
import { SqliteWebhookStore } from './store/webhook-store.js';
import { SqliteAccountDirectory } from './store/account-directory.js';
import { presentVideo } from './routes/present-video.js';
import { createControlPlane } from './control/control-plane.js';
import { HoldRegistry } from './control/holds.js';
import { ENCODE_JOB, encodeGaveUp, encodeHandler } from './transcode/encode-job.js';
import { CLIP_JOB, clipHandler } from './transcode/clip-job.js';
import { DOWNLOAD_JOB, downloadGaveUp, downloadHandler } from './transcode/download-job.js';
import type { IngestDeps } from './transcode/ingest.js';
import { CAPTION_JOB, captionGaveUp, captionHandler } from './transcode/caption-job.js';
import { AUDIO_TRACK_JOB, audioTrackGaveUp, audioTrackHandler } from './transcode/audio-track-job.js';
import { JobRunner } from './transcode/job-runner.js';
import { resolveMediaTools } from './transcode/binaries.js';
import { UrlImporter } from './transcode/url-importer.js';
import { WebhookDeliverer } from './transcode/webhook-deliverer.js';
import { SqliteLiveInputStore } from './store/live-input-store.js';
import { LiveManager } from './live/live-manager.js';
import { LIVE_RECORDING_JOB, recordingHandler } from './live/recording.js';

const CLOSE_GRACE_MS = 2000;

export interface RunningMinistream {
  app: FastifyInstance;
  /** http://host:port of the listening server. */
  url: string;
  port: number;
  dataDir: string;
  /** Background clean-up; tests call sweep() instead of waiting for the interval. */
  sweeper: Sweeper;
  close(): Promise<void>;
}

function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  const base = { level: config.logLevel };
  // Pretty in a terminal, JSON lines otherwise (containers, CI, log shippers).
  if (process.stdout.isTTY && config.logLevel !== 'silent') {
    return { ...base, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } };
  }
  return base;
}

export async function startMinistream(config: Config): Promise<RunningMinistream> {
  const dataDir = config.inMemory ? mkdtempSync(join(tmpdir(), 'ministream-')) : resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let db: Db | undefined;
  try {
    db = openDatabase(join(dataDir, 'ministream.sqlite'));
    const media = new MediaStore(dataDir);
    await media.init();
    const webhooks = new SqliteWebhookStore(db);
    // Webhook bodies carry the video's URLs on --public-url, else on this server's address once it listens.
    let selfUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
    // Every path that settles a video (ready/error) goes through this store, which writes the webhook outbox.
    const videos = new NotifyingVideoStore(new SqliteVideoStore(db), db, webhooks, { present: (v) => presentVideo(v, selfUrl), enqueued: () => deliverer.notify() });
    const uploads = new SqliteUploadStore(db);
    uploads.releaseStaleClaims();
    const tools = resolveMediaTools();
    const database = db;
    // The importer and sweeper log through the app's logger once it exists.
    const log = { info: (o: object, m: string) => app.log.info(o, m), warn: (o: object, m: string) => app.log.warn(o, m), error: (o: object, m: string) => app.log.error(o, m) };
    const transaction = <T>(fn: () => T): T => database.transaction(fn)();
    const runner = new JobRunner(new SqliteJobStore(db), log, config.encodeConcurrency);
    const deliverer = new WebhookDeliverer(webhooks, log, { retryBaseMs: config.webhookRetryBaseMs });
    // Tests may hold a video in `inprogress` (POST /_ministream/videos/:uid/hold): the encode job waits here.
    const holds = new HoldRegistry();
    runner.register(
      ENCODE_JOB,
      encodeHandler({ videos, media, ffmpegPath: tools.ffmpeg.path, ffprobePath: tools.ffprobe.path, mode: config.encoding, preset: config.x264Preset, log, holds }),
      encodeGaveUp(videos),
    );
    const ingest: IngestDeps = { videos, media, ffprobePath: tools.ffprobe.path, queue: runner, transaction };
    const control = createControlPlane({ db: database, ingest, config, log, holds });
    const downloads = new SqliteDownloadStore(db);
    runner.register(DOWNLOAD_JOB, downloadHandler({ videos, downloads, media, ffmpegPath: tools.ffmpeg.path, log }), downloadGaveUp(downloads));
    // A clip that cannot be cut ends in `error` like a failed encode.
    runner.register(CLIP_JOB, clipHandler({ ...ingest, ffmpegPath: tools.ffmpeg.path, log }), encodeGaveUp(videos));
    const captions = new SqliteCaptionStore(db);
    const audioTracks = new SqliteAudioTrackStore(db);
    const mediaTools = { media, ffmpegPath: tools.ffmpeg.path, ffprobePath: tools.ffprobe.path, log };
    runner.register(CAPTION_JOB, captionHandler({ videos, captions, ...mediaTools }), captionGaveUp(captions));
    runner.register(AUDIO_TRACK_JOB, audioTrackHandler({ videos, tracks: audioTracks, ...mediaTools }), audioTrackGaveUp(audioTracks));
    const importer = new UrlImporter(ingest, uploads, log);
    const keys = new SqliteKeyStore(db);
    const watermarks = new SqliteWatermarkStore(db);
    // Live inputs: RTMP ingest, live HLS, recordings (a durable job) and simulcast (src/live).
    const liveInputs = new SqliteLiveInputStore(db);
    runner.register(LIVE_RECORDING_JOB, recordingHandler({ ...ingest, ffmpegPath: tools.ffmpeg.path, log }), encodeGaveUp(videos));
    const live = new LiveManager({
      config, inputs: liveInputs, videos, media, webhooks, queue: runner, transaction, ffmpegPath: tools.ffmpeg.path, srtLiveTransmitPath: tools.srtLiveTransmit?.path ?? null,
      log: { ...log, debug: (o: object, m: string) => app.log.debug(o, m) }, webhooksEnqueued: () => deliverer.notify(),
    });
    const ctx: MinistreamContext = { config, videos, uploads, keys, webhooks, accounts: new SqliteAccountDirectory(db), downloads, watermarks, captions, audioTracks, liveInputs, live, media, tools, importer, ingest, transaction, control };
    const app = await buildApp(ctx, loggerOptions(config));
    const sweeper = new Sweeper(videos, uploads, media, log);
    // --seed: the folder's files are queued videos before the server listens (their jobs wait for the runner).
    await control.seed();
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${hostForUrl}:${port}`;
    selfUrl = config.publicUrl ?? url;
    app.log.info(
      { ffmpeg: ctx.tools.ffmpeg, ffprobe: ctx.tools.ffprobe, dataDir, inMemory: config.inMemory },
      `ffmpeg: ${ctx.tools.ffmpeg.source} ${ctx.tools.ffmpeg.path} (${ctx.tools.ffmpeg.version})`,
    );
    runner.start();
    deliverer.start();
    importer.resumeUnfinished();
    sweeper.start(config.sweepIntervalSeconds);
    await live.start();
    // The stable line that containers and test harnesses wait for.
    app.log.info(`Ministream ready on ${url}`);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        // Requests in flight get a moment to finish; then their connections are cut (a tus client
        // that stalls mid-chunk would otherwise hold the shutdown forever; it resumes later anyway).
        const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
        await app.close();
        clearTimeout(cut);
        await live.stop();
        await sweeper.stop();
        await importer.close();
        await runner.stop();
        await deliverer.stop();
        db?.close();
        if (config.inMemory) rmSync(dataDir, { recursive: true, force: true });
      })());
    return { app, url, port, dataDir, sweeper, close };
  } catch (err) {
    db?.close();
    if (config.inMemory) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
