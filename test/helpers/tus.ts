// tus-js-client, as apps use it, wrapped in promises.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tus from 'tus-js-client';

export const MiB = 1024 * 1024;

export interface TusResult {
  url: string;
  /** The stream-media-id header of the creation answer. */
  mediaId: string | undefined;
}

export interface TusOptions extends Omit<tus.UploadOptions, 'onSuccess' | 'onError'> {
  /** Abort after this many successful PATCHes (to test resuming). */
  abortAfterChunks?: number;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function fileBytes(path: string): Buffer {
  return readFileSync(path);
}

/**
 * Runs an upload to completion (or to `abortAfterChunks`). Retries are off so that a refusal
 * surfaces at once as a rejection carrying the tus DetailedError.
 */
export function runTus(data: Buffer, options: TusOptions): Promise<TusResult> {
  return new Promise((resolve, reject) => {
    let mediaId: string | undefined;
    let patches = 0;
    const upload: tus.Upload = new tus.Upload(data, {
      chunkSize: 5 * MiB,
      retryDelays: [],
      storeFingerprintForResuming: false,
      ...options,
      onAfterResponse: (req, res) => {
        mediaId ??= res.getHeader('stream-media-id') ?? undefined;
        if (req.getMethod() === 'PATCH' && res.getStatus() === 204) {
          patches += 1;
          if (options.abortAfterChunks !== undefined && patches >= options.abortAfterChunks) {
            void upload.abort().then(() => resolve({ url: upload.url!, mediaId }));
          }
        }
        options.onAfterResponse?.(req, res);
      },
      onSuccess: () => resolve({ url: upload.url!, mediaId }),
      onError: reject,
    });
    upload.start();
  });
}

/** The HTTP status of a tus DetailedError (or undefined). */
export function tusStatus(err: unknown): number | undefined {
  return (err as { originalResponse?: { getStatus(): number } }).originalResponse?.getStatus();
}
export function tusBody(err: unknown): string | undefined {
  return (err as { originalResponse?: { getBody(): string } }).originalResponse?.getBody();
}
