// Upload from URL: POST /stream/copy, against an origin server that the test runs on loopback.
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { LANDED_STATES, waitFor } from './helpers/wait.js';

let server: TestServer;
let cf: Cloudflare;
let origin: Server;
let originUrl: string;
let stall = true;
const stalled: ServerResponse[] = [];

beforeAll(async () => {
  server = await startTestServer();
  cf = server.sdk();
  origin = createServer((req, res) => {
    if (req.url === '/stall.mp4' && stall) {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 1_000_000 });
      res.write(Buffer.alloc(1000)); // ...and never the rest, while `stall` holds
      stalled.push(res);
      return;
    }
    const file = { '/clip.mp4': 'small.mp4', '/notes.txt': 'notes.txt', '/stall.mp4': 'small.mp4' }[req.url ?? ''];
    if (!file) return res.writeHead(404).end('no such file');
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': statSync(media(file)).size });
    createReadStream(media(file)).pipe(res);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => origin?.close(r));
});

const settled = (account: string, uid: string) =>
  waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state !== 'downloading');

describe('POST /stream/copy', () => {
  it('answers at once in downloading with meta["downloaded-from"], then the video is queued', async () => {
    const account = freshAccount();
    const url = `${originUrl}/clip.mp4`;
    const raw = await cf.stream.copy.create({ account_id: account, url, meta: { name: 'copied' }, creator: 'c9', thumbnailTimestampPct: 0.5 }).asResponse();
    const body = await raw.json();
    expectSchema('POST', '/accounts/{account_id}/stream/copy', '200', body);
    expect(body.result).toMatchObject({
      status: { state: 'downloading' },
      meta: { name: 'copied', 'downloaded-from': url },
      creator: 'c9',
      duration: -1,
      input: { width: -1, height: -1 },
      readyToStream: false,
      uploadExpiry: null,
    });
    const v = await settled(account, body.result.uid);
    expect(LANDED_STATES).toContain(v.status?.state);
    expect(v.size).toBe(statSync(media('small.mp4')).size);
    expect(v.duration).toBeCloseTo(2, 0);
    expect(v.thumbnailTimestampPct).toBe(0.5);
  });

  it('takes the newer `input` form and the Upload-Creator / Upload-Metadata headers', async () => {
    const account = freshAccount();
    const res = await fetch(server.streamUrl(account, '/copy'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Upload-Creator': 'hdr', 'Upload-Metadata': `name ${Buffer.from('from-header').toString('base64')},requiresignedurls` },
      body: JSON.stringify({ input: `${originUrl}/clip.mp4` }),
    });
    expect(res.status).toBe(200);
    const { result } = await res.json();
    expect(result).toMatchObject({ creator: 'hdr', requireSignedURLs: true, meta: { name: 'from-header' } });
    expect(LANDED_STATES).toContain((await settled(account, result.uid)).status?.state);
  });

  it.each([
    ['an HTTP error', '/missing.mp4', 'ERR_FETCH_ORIGIN_ERROR'],
    ['a file that is not a video', '/notes.txt', 'ERR_NON_VIDEO'],
  ])('ends %s in state error with the real code', async (_name, path, code) => {
    const account = freshAccount();
    const v = await cf.stream.copy.create({ account_id: account, url: `${originUrl}${path}` });
    const done = await settled(account, v.uid!);
    expect(done.status).toMatchObject({ state: 'error', errorReasonCode: code });
    expect(done.status?.errorReasonText).not.toBe('');
  });

  it('ends an unreachable origin in state error, ERR_FETCH_ORIGIN_ERROR', async () => {
    const account = freshAccount();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const v = await cf.stream.copy.create({ account_id: account, url: `http://127.0.0.1:${port}/gone.mp4` });
    expect((await settled(account, v.uid!)).status?.errorReasonCode).toBe('ERR_FETCH_ORIGIN_ERROR');
  });

  it('refuses a missing or non-http URL with 400', async () => {
    const account = freshAccount();
    for (const body of [{}, { url: 'ftp://example.com/a.mp4' }, { url: 'not a url' }, { url: 42 }]) {
      const res = await fetch(server.streamUrl(account, '/copy'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectSchema('POST', '/accounts/{account_id}/stream/copy', '4XX', await res.json());
    }
    expect((await cf.stream.list({ account_id: account })).result).toEqual([]);
  });
});

describe('a copy interrupted by a restart', () => {
  it('starts again when Ministream comes back, and completes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ministream-copy-'));
    try {
      const account = freshAccount();
      const first = await startTestServer({ inMemory: false, dataDir });
      const v = await first.sdk().stream.copy.create({ account_id: account, url: `${originUrl}/stall.mp4` });
      await waitFor(async () => stalled.length, (n) => n > 0);
      await first.close();
      stalled.forEach((res) => res.destroy());
      stall = false;
      const second = await startTestServer({ inMemory: false, dataDir });
      try {
        const done = await waitFor(() => second.sdk().stream.get(v.uid!, { account_id: account }), (x) => x.status?.state !== 'downloading');
        expect(LANDED_STATES).toContain(done.status?.state);
        expect(done.size).toBe(statSync(media('small.mp4')).size);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('scheduled deletion', () => {
  it('removes a video, row and files, once its scheduledDeletion has passed', async () => {
    const account = freshAccount();
    const v = await cf.stream.copy.create({ account_id: account, url: `${originUrl}/clip.mp4` });
    await settled(account, v.uid!);
    await cf.stream.edit(v.uid!, { account_id: account, scheduledDeletion: new Date(Date.now() + 31 * 86_400_000).toISOString() });
    expect((await server.sweeper.sweep()).scheduledDeletions).not.toContain(v.uid);
    // Time travel: the edit's 30-day rule keeps real dates out of reach of a test.
    server.app.ministream.videos.update(account, v.uid!, { scheduledDeletion: '2001-01-01T00:00:00.000000Z' });
    expect((await server.sweeper.sweep()).scheduledDeletions).toContain(v.uid);
    await expect(cf.stream.get(v.uid!, { account_id: account })).rejects.toMatchObject({ status: 404 });
  });
});
