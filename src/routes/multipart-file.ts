// Receives the `file` field of a multipart/form-data request, streamed to disk (never buffered in
// memory), within a size limit. Used by the basic upload and the one-time direct upload URL.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { Errors } from '../errors.js';
import type { MediaStore } from '../store/media-store.js';

/** Room for the multipart boundaries and part headers around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

export async function registerMultipart(app: FastifyInstance, limit: number): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: limit, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 },
  });
}

export interface ReceivedFile {
  path: string;
  size: number;
}

export async function receiveFile(request: FastifyRequest, media: MediaStore, limit: number, prefix: string): Promise<ReceivedFile> {
  if (!request.isMultipart()) throw Errors.missingFile();
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limit + MULTIPART_OVERHEAD) throw Errors.uploadTooLarge(limit);

  const part = await request.file();
  if (!part || part.fieldname !== 'file') throw Errors.missingFile();
  const path = media.incomingPath(`${prefix}-${randomBytes(8).toString('hex')}`);
  try {
    await pipeline(part.file, createWriteStream(path));
  } catch (err) {
    await rm(path, { force: true });
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw Errors.uploadTooLarge(limit);
    throw err;
  }
  if (part.file.truncated) {
    await rm(path, { force: true });
    throw Errors.uploadTooLarge(limit);
  }
  return { path, size: part.file.bytesRead };
}

export interface ReceivedForm {
  /** The `file` part, streamed to disk; a `file` sent as a plain field (no filename) is in `fields`. */
  file: ReceivedFile | undefined;
  fields: Record<string, string>;
}

/** Reads a whole multipart form, fields in any order, with the `file` part streamed to disk. */
export async function receiveForm(request: FastifyRequest, media: MediaStore, limit: number, prefix: string): Promise<ReceivedForm> {
  if (!request.isMultipart()) throw Errors.missingFile();
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > limit + MULTIPART_OVERHEAD) throw Errors.uploadTooLarge(limit);
  const fields: Record<string, string> = {};
  let file: ReceivedFile | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname !== 'file' || file) {
        part.file.resume(); // not ours: drain it
        continue;
      }
      const path = media.incomingPath(`${prefix}-${randomBytes(8).toString('hex')}`);
      file = { path, size: 0 };
      await pipeline(part.file, createWriteStream(path));
      if (part.file.truncated) throw Errors.uploadTooLarge(limit);
      file.size = part.file.bytesRead;
    }
  } catch (err) {
    if (file) await rm(file.path, { force: true });
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw Errors.uploadTooLarge(limit);
    throw err;
  }
  return { file, fields };
}
