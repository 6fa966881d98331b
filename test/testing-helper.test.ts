// The `ministream/testing` entry, used the way the README's vitest example uses it: one in-process
// server for the file, the official SDK pointed at apiBaseURL, reset() between tests, close() at the end.
import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { startMinistream, type TestMinistream } from '../src/testing.js';
import { media } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const ACCOUNT = 'my-account';

let ms: TestMinistream;
let cf: Cloudflare;

beforeAll(async () => {
  ms = await startMinistream();
  cf = new Cloudflare({ baseURL: ms.apiBaseURL, apiToken: 'test-token', maxRetries: 0 });
});
beforeEach(() => ms.reset());
afterAll(() => ms.close());

async function upload(account = ACCOUNT): Promise<string> {
  const form = new FormData();
  form.append('file', await openAsBlob(media('small.mp4')), 'small.mp4');
  const res = await fetch(`${ms.apiBaseURL}/accounts/${account}/stream`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { uid: string } }).result.uid;
}

describe('startMinistream()', () => {
  it('serves the Stream API on a random port, with fast encodes, for the official SDK', async () => {
    expect(ms.port).toBeGreaterThan(0);
    expect(ms.url).toBe(`http://127.0.0.1:${ms.port}`);
    expect(ms.apiBaseURL).toBe(`${ms.url}/client/v4`);
    expect((await fetch(`${ms.url}/healthz`)).status).toBe(200);

    const uid = await upload();
    const video = await waitFor(() => cf.stream.get(uid, { account_id: ACCOUNT }), (v) => v.status?.state === 'ready');
    expect(video.readyToStream).toBe(true);
    expect(video.playback?.hls).toBe(`${ms.url}/${uid}/manifest/video.m3u8`);
  });

  it('starts every test from nothing: reset() ran in beforeEach', async () => {
    expect((await cf.stream.list({ account_id: ACCOUNT })).result).toEqual([]);
  });

  it("reset(accountId) deletes one account's data only, with its files", async () => {
    const [mine, theirs] = [await upload(), await upload('other-account')];
    const result = await ms.reset(ACCOUNT);
    expect(result).toMatchObject({ accountId: ACCOUNT, videoUids: [mine] });
    expect((await cf.stream.list({ account_id: ACCOUNT })).result).toEqual([]);
    expect((await cf.stream.list({ account_id: 'other-account' })).result.map((v) => v.uid)).toEqual([theirs]);
  });

  it('takes any Config override, and close() removes the temporary data folder', async () => {
    const guarded = await startMinistream({ apiTokens: ['secret'], encoding: 'full' });
    try {
      expect((await fetch(`${guarded.apiBaseURL}/accounts/a/stream`)).status).toBe(401);
      const sdk = new Cloudflare({ baseURL: guarded.apiBaseURL, apiToken: 'secret', maxRetries: 0 });
      expect((await sdk.stream.list({ account_id: 'a' })).result).toEqual([]);
      expect(existsSync(guarded.dataDir)).toBe(true);
    } finally {
      await guarded.close();
    }
    expect(existsSync(guarded.dataDir)).toBe(false);
    await expect(fetch(`${guarded.url}/healthz`)).rejects.toThrow();
  });
});

describe("package.json exports 'ministream/testing'", () => {
  it('maps it to the built dist/testing.js with its types, next to the main entry', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    expect(pkg.exports['./testing']).toEqual({ types: './dist/testing.d.ts', default: './dist/testing.js' });
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    // tsconfig.build.json compiles src/ to dist/ one for one.
    expect(existsSync(new URL('../src/testing.ts', import.meta.url))).toBe(true);
  });
});
