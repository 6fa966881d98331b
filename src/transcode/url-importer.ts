// Upload from URL: fetches the source in the background, streaming it to disk, then completes the
// video like any other upload. Copies that were downloading when the process stopped start again.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { randomBytes } from 'node:crypto';
import { VideoErrorReasons } from '../errors.js';
import type { UploadStore } from '../store/upload-store.js';
import type { VideoStore } from '../store/video-types.js';
import { completePendingVideo, failVideo, type IngestDeps } from './ingest.js';
import { progressLogger } from '../control/progress-log.js';

/** Cloudflare's largest file: 30 GB. */
export const MAX_SOURCE_BYTES = 30_000_000_000;

export interface ImporterLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class UrlImporter {
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(
    private readonly deps: IngestDeps,
    private readonly uploads: UploadStore,
    private readonly log: ImporterLog,
    private readonly maxBytes = MAX_SOURCE_BYTES,
  ) {}

  private get videos(): VideoStore {
    return this.deps.videos;
  }

  /** Starts (or restarts) the download of a copy whose upload row names its source. */
  start(uid: string): void {
    if (this.inFlight.has(uid)) return;
    const abort = new AbortController();
    const done = this.run(uid, abort.signal)
      .catch((err: unknown) => this.log.warn({ uid, err }, 'copy failed'))
      .finally(() => this.inFlight.delete(uid));
    this.inFlight.set(uid, { abort, done });
  }

  /** Restarts every copy that had not finished. */
  resumeUnfinished(): void {
    for (const upload of this.uploads.unfinished('copy')) this.start(upload.uid);
  }

  /** Resolves when the copy of `uid` (if any) has settled. */
  async settled(uid: string): Promise<void> {
    await this.inFlight.get(uid)?.done;
  }

  async close(): Promise<void> {
    for (const { abort } of this.inFlight.values()) abort.abort();
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
  }

  private async run(uid: string, signal: AbortSignal): Promise<void> {
    const upload = this.uploads.get(uid);
    const video = this.videos.findByUid(uid);
    if (!upload?.sourceUrl || !video || video.state !== 'downloading') return;
    const file = this.deps.media.incomingPath(`copy-${uid}-${randomBytes(4).toString('hex')}`);
    let size: number;
    try {
      // Progress in the log: info, every 25 % (of Content-Length, when sent) or every few seconds.
      const logProgress = progressLogger(this.log, 'copy: progress', { uid });
      size = await fetchToFile(upload.sourceUrl, file, this.maxBytes, signal, (bytes, total) => logProgress(total ? (bytes / total) * 100 : undefined, { bytes }));
    } catch (err) {
      await rm(file, { force: true });
      if (signal.aborted) return; // shutting down: the copy restarts at the next start
      this.log.info({ uid, url: upload.sourceUrl, reason: (err as Error).message }, 'copy: origin fetch failed');
      failVideo(this.videos, video, VideoErrorReasons.fetchOrigin);
      this.uploads.complete(uid);
      return;
    }
    const current = this.videos.findByUid(uid);
    if (!current) {
      await rm(file, { force: true }); // deleted while downloading
      return;
    }
    await completePendingVideo(this.deps, { video: current, file, size, refuseNonVideo: false });
    this.uploads.complete(uid);
  }
}

/** Streams a URL's body to `file`; rejects on a network error, a non-2xx status or an oversized body. */
export async function fetchToFile(
  url: string,
  file: string,
  maxBytes: number,
  signal?: AbortSignal,
  onProgress?: (bytes: number, total: number | undefined) => void,
): Promise<number> {
  const res = await fetch(url, { signal, redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`origin answered ${res.status}`);
  let size = 0;
  const total = Number(res.headers.get('content-length')) || undefined;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      onProgress?.(size, total);
      cb(size > maxBytes ? new Error(`larger than ${maxBytes} bytes`) : null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), counter, createWriteStream(file), { signal });
  return size;
}
