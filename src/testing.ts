// The `ministream/testing` entry: a Ministream inside the test process, for test suites.
//
//   import { startMinistream } from 'ministream/testing';
//   const ms = await startMinistream();          // random port, temporary data folder, silent
//   const cf = new Cloudflare({ baseURL: ms.apiBaseURL, apiToken: 'test' });
//   ...
//   await ms.reset();                            // between tests: everything gone, no restart
//   await ms.close();                            // the data folder goes with it
import { DEFAULTS, type Config } from './config.js';
import type { ResetOptions, ResetResult } from './control/control-plane.js';
import { startMinistream as startServer, type RunningMinistream } from './server.js';

export type { Config } from './config.js';
export type { ResetResult } from './control/control-plane.js';

/** Any Config field; the test defaults are overridden by what is given. */
export type MinistreamTestOptions = Partial<Config>;

export interface TestMinistream {
  /** http://127.0.0.1:PORT: delivery URLs, /_ministream/*, /healthz. */
  url: string;
  /** http://127.0.0.1:PORT/client/v4: the official SDK's `baseURL`. */
  apiBaseURL: string;
  port: number;
  /** The temporary data folder (SQLite file and media), removed by close(). */
  dataDir: string;
  /**
   * Deletes every account's data (or only `accountId`'s): videos and their files, uploads, jobs,
   * keys, webhooks and deliveries, watermarks, downloads, captions, audio tracks, live inputs. A
   * full reset also clears injected faults, holds and the request log. Same as POST /_ministream/reset.
   */
  reset(accountId?: string, options?: ResetOptions): Promise<ResetResult>;
  /** Stops the server and removes its data folder. */
  close(): Promise<void>;
  /** The running instance (its Fastify app, sweeper, ...), for what the above does not cover. */
  server: RunningMinistream;
}

/** What a test suite wants unless it says otherwise. */
export const TEST_DEFAULTS: MinistreamTestOptions = {
  port: 0,
  // Its own free RTMP port too, so that parallel test files never race for 1935, and free SRT ports.
  rtmpPort: 0,
  srtPortBase: 0,
  inMemory: true,
  logLevel: 'silent',
  // One rendition, stream-copied when the input allows: a test clip is ready in well under a second.
  encoding: 'fast',
};

export async function startMinistream(options: MinistreamTestOptions = {}): Promise<TestMinistream> {
  const server = await startServer({ ...DEFAULTS, ...TEST_DEFAULTS, ...options });
  const { control } = server.app.ministream;
  return {
    url: server.url,
    apiBaseURL: `${server.url}/client/v4`,
    port: server.port,
    dataDir: server.dataDir,
    reset: (accountId, resetOptions) => control.reset(accountId, resetOptions),
    close: () => server.close(),
    server,
  };
}
