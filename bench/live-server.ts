// Ministream for `npm run bench:live`, run as a child process by bench/live.ts: startMinistream()
// with free HTTP, RTMP and SRT ports, a temporary data folder, no logs. Its own event loop, so
// that the bench's polling does not share one with the server.
import { DEFAULTS } from '../src/config.js';
import { startMinistream, type RunningMinistream } from '../src/server.js';

export type LiveServerMessage = { type: 'ready'; port: number; srt: boolean } | { type: 'failed'; error: string };

const send = process.send?.bind(process) as ((msg: LiveServerMessage) => boolean) | undefined;
if (!send) {
  console.error('this file is a server process of bench/live.ts; run `npm run bench:live`');
  process.exit(1);
}
let server: RunningMinistream | undefined;
const shutdown = async () => {
  await server?.close();
  process.exit(0);
};
process.once('disconnect', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
startMinistream({ ...DEFAULTS, port: 0, rtmpPort: 0, srtPortBase: 0, inMemory: true, logLevel: 'silent', encoding: 'fast' }).then(
  (started) => {
    server = started;
    send({ type: 'ready', port: started.port, srt: started.app.ministream.live.srtEnabled });
  },
  (err: unknown) => {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
