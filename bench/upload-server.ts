// Ministream for `npm run bench:upload`, run as a child process by bench/upload.ts: the same
// startMinistream() as the CLI (port 0, a temporary data folder removed on close, no logs).
import { DEFAULTS } from '../src/config.js';
import { startMinistream } from '../src/server.js';
import { runServerChild } from './upload-child.js';

runServerChild(async () => {
  const ministream = await startMinistream({ ...DEFAULTS, port: 0, inMemory: true, logLevel: 'silent' });
  return { port: ministream.port, close: () => ministream.close() };
});
