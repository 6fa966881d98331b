// Starts a real Ministream on a random port with a temporary data folder, in the test's process.
import { join } from 'node:path';
import { inject } from 'vitest';
import Cloudflare from 'cloudflare';
import { DEFAULTS, type Config } from '../../src/config.js';
import { startMinistream, type RunningMinistream } from '../../src/server.js';

export interface TestServer extends RunningMinistream {
  /** http://127.0.0.1:PORT/client/v4: the SDK's baseURL. */
  apiBase: string;
  /** The official SDK pointed at this server (no retries, so failures show at once). */
  sdk(options?: ConstructorParameters<typeof Cloudflare>[0]): Cloudflare;
  /** Absolute URL of an account's stream collection. */
  streamUrl(accountId: string, path?: string): string;
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  // rtmpPort 0: every test server gets its own free RTMP port, so parallel suites never race for 1935
  // (and free SRT ports, for the same reason).
  const server = await startMinistream({ ...DEFAULTS, port: 0, rtmpPort: 0, srtPortBase: 0, inMemory: true, logLevel: 'silent', ...overrides });
  const apiBase = `${server.url}/client/v4`;
  return {
    ...server,
    apiBase,
    sdk: (options) => new Cloudflare({ baseURL: apiBase, apiToken: 'test-token', maxRetries: 0, ...options }),
    streamUrl: (accountId, path = '') => `${apiBase}/accounts/${accountId}/stream${path}`,
  };
}

/** Path of a generated test clip (see global-setup.ts). */
export function media(name: string): string {
  return join(inject('mediaDir'), name);
}

let counter = 0;
/** A fresh account id per test: accounts never see each other's data, so tests need no reset. */
export function freshAccount(): string {
  counter += 1;
  return `acc${process.pid.toString(16)}${Date.now().toString(16)}${counter}`.slice(0, 32);
}
