// The baseline of `npm run bench:upload`, run as a child process by bench/upload.ts: @tus/server
// with @tus/file-store on plain node:http, default options, in its own temporary folder. No
// Fastify, no routing, no hooks, no SQLite and no ffprobe on completion: it shows what the tus
// libraries Ministream builds on can take on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import { BARE_TUS_PATH, runServerChild } from './upload-child.js';

runServerChild(async () => {
  const directory = mkdtempSync(join(tmpdir(), 'ministream-bench-bare-'));
  const tus = new Server({ path: BARE_TUS_PATH, datastore: new FileStore({ directory }) });
  const http = createServer((req, res) => void tus.handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    rmSync(directory, { recursive: true, force: true });
    throw err;
  }
  return {
    port: (http.address() as AddressInfo).port,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
