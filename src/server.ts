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
import { resolveMediaTools } from './transcode/binaries.js';

export interface RunningMinistream {
  app: FastifyInstance;
  /** http://host:port of the listening server. */
  url: string;
  port: number;
  dataDir: string;
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
    const ctx: MinistreamContext = {
      config,
      videos: new SqliteVideoStore(db),
      media,
      tools: resolveMediaTools(),
    };
    const app = await buildApp(ctx, loggerOptions(config));
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${hostForUrl}:${port}`;
    app.log.info(
      { ffmpeg: ctx.tools.ffmpeg, ffprobe: ctx.tools.ffprobe, dataDir, inMemory: config.inMemory },
      `ffmpeg: ${ctx.tools.ffmpeg.source} ${ctx.tools.ffmpeg.path} (${ctx.tools.ffmpeg.version})`,
    );
    // The stable line that containers and test harnesses wait for.
    app.log.info(`Ministream ready on ${url}`);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        await app.close();
        db?.close();
        if (config.inMemory) rmSync(dataDir, { recursive: true, force: true });
      })());
    return { app, url, port, dataDir, close };
  } catch (err) {
    db?.close();
    if (config.inMemory) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
