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
import { SqliteUploadStore } from './store/upload-store.js';
import { ENCODE_JOB, encodeGaveUp, encodeHandler } from './transcode/encode-job.js';
import type { IngestDeps } from './transcode/ingest.js';
import { JobRunner } from './transcode/job-runner.js';
import { resolveMediaTools } from './transcode/binaries.js';
import { UrlImporter } from './transcode/url-importer.js';

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
    const videos = new SqliteVideoStore(db);
    const uploads = new SqliteUploadStore(db);
    uploads.releaseStaleClaims();
    const tools = resolveMediaTools();
    const database = db;
    // The importer and sweeper log through the app's logger once it exists.
    const log = { info: (o: object, m: string) => app.log.info(o, m), warn: (o: object, m: string) => app.log.warn(o, m), error: (o: object, m: string) => app.log.error(o, m) };
    const transaction = <T>(fn: () => T): T => database.transaction(fn)();
    const runner = new JobRunner(new SqliteJobStore(db), log, config.encodeConcurrency);
    runner.register(
      ENCODE_JOB,
      encodeHandler({ videos, media, ffmpegPath: tools.ffmpeg.path, ffprobePath: tools.ffprobe.path, mode: config.encoding, preset: config.x264Preset, log }),
      encodeGaveUp(videos),
    );
    const ingest: IngestDeps = { videos, media, ffprobePath: tools.ffprobe.path, queue: runner, transaction };
    const importer = new UrlImporter(ingest, uploads, log);
    const keys = new SqliteKeyStore(db);
    const ctx: MinistreamContext = { config, videos, uploads, keys, media, tools, importer, ingest, transaction };
    const app = await buildApp(ctx, loggerOptions(config));
    const sweeper = new Sweeper(videos, uploads, media, log);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${hostForUrl}:${port}`;
    app.log.info(
      { ffmpeg: ctx.tools.ffmpeg, ffprobe: ctx.tools.ffprobe, dataDir, inMemory: config.inMemory },
      `ffmpeg: ${ctx.tools.ffmpeg.source} ${ctx.tools.ffmpeg.path} (${ctx.tools.ffmpeg.version})`,
    );
    runner.start();
    importer.resumeUnfinished();
    sweeper.start(config.sweepIntervalSeconds);
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
        await sweeper.stop();
        await importer.close();
        await runner.stop();
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
