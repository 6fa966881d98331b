// Direct creator uploads: a one-time URL made with the API, used once by a browser without a token.
import { openAsBlob } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { LANDED_STATES } from './helpers/wait.js';

let server: TestServer;
let cf: Cloudflare;
beforeAll(async () => {
  // Locked with a token: the one-time URL must work without it.
  server = await startTestServer({ apiTokens: ['secret'] });
  cf = server.sdk({ apiToken: 'secret' });
});
afterAll(async () => server?.close());

/** What a browser page does with the uploadURL: fetch + FormData, an Origin, no credentials. */
async function browserPost(uploadURL: string, file: string): Promise<Response> {
  const form = new FormData();
  form.append('file', await openAsBlob(file), 'upload.mp4');
  return fetch(uploadURL, { method: 'POST', body: form, headers: { Origin: 'https://app.example.com' } });
}

describe('POST /stream/direct_upload', () => {
  it('returns a one-time uploadURL on this server and a video in pendingupload', async () => {
    const account = freshAccount();
    const raw = await cf.stream.directUpload
      .create({ account_id: account, maxDurationSeconds: 3600, meta: { name: 'du' }, requireSignedURLs: true, creator: 'c1' })
      .asResponse();
    const body = await raw.json();
    expectSchema('POST', '/accounts/{account_id}/stream/direct_upload', '200', body);
    const { uid, uploadURL } = body.result;
    expect(uploadURL).toBe(`${server.url}/upload/${uid}`);
    const v = await cf.stream.get(uid, { account_id: account });
    expect(v).toMatchObject({ status: { state: 'pendingupload' }, maxDurationSeconds: 3600, meta: { name: 'du' }, requireSignedURLs: true, creator: 'c1' });
    // Default expiry: now + 30 minutes.
    const minutes = (Date.parse(v.uploadExpiry!) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);
  });

  it('takes the Upload-Creator header and an explicit expiry', async () => {
    const account = freshAccount();
    const expiry = new Date(Date.now() + 3_600_000).toISOString();
    const r = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60, expiry, 'Upload-Creator': 'hdr-creator' });
    const v = await cf.stream.get(r.uid!, { account_id: account });
    expect(v.creator).toBe('hdr-creator');
    expect(Date.parse(v.uploadExpiry!)).toBe(Date.parse(expiry));
  });

  it('requires maxDurationSeconds and refuses bad values', async () => {
    const account = freshAccount();
    const call = (body: unknown) =>
      fetch(server.streamUrl(account, '/direct_upload'), { method: 'POST', headers: { authorization: 'Bearer secret', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [{}, { maxDurationSeconds: 0 }, { maxDurationSeconds: 30000 }, { maxDurationSeconds: 60, expiry: '2001-01-01T00:00:00Z' }, { maxDurationSeconds: 60, thumbnailTimestampPct: 3 }]) {
      const res = await call(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectSchema('POST', '/accounts/{account_id}/stream/direct_upload', '4XX', await res.json());
    }
    expect((await cf.stream.list({ account_id: account })).result).toEqual([]);
  });
});

describe('the one-time uploadURL', () => {
  it('takes one browser POST without a token, with CORS open, and the video is queued', async () => {
    const account = freshAccount();
    const { uid, uploadURL } = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 });
    const res = await browserPost(uploadURL!, media('small.mp4'));
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const v = await cf.stream.get(uid!, { account_id: account });
    expect(LANDED_STATES).toContain(v.status?.state);
    expect(v.duration).toBeCloseTo(2, 0);

    const again = await browserPost(uploadURL!, media('small.mp4'));
    expect(again.status).toBe(409);
    expect((await again.json()).errors[0].message).toMatch(/already been used/);
  });

  it('answers a CORS preflight from any origin', async () => {
    const { uploadURL } = await cf.stream.directUpload.create({ account_id: freshAccount(), maxDurationSeconds: 60 });
    const res = await fetch(uploadURL!, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('refuses a use after expiry', async () => {
    const account = freshAccount();
    const expiry = new Date(Date.now() + 1000).toISOString();
    const { uploadURL, uid } = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60, expiry });
    await new Promise((r) => setTimeout(r, 1100));
    const res = await browserPost(uploadURL!, media('small.mp4'));
    expect(res.status).toBe(410);
    expect((await res.json()).errors[0].message).toMatch(/expired/);
    // The sweeper removes the expired, never-used video.
    const swept = await server.sweeper.sweep();
    expect(swept.abandonedUploads).toContain(uid);
    await expect(cf.stream.get(uid!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it('refuses a file that is not a video at once, and the URL stays usable', async () => {
    const account = freshAccount();
    const { uploadURL, uid } = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 });
    const bad = await browserPost(uploadURL!, media('still.png'));
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].code).toBe(10059);
    expect((await cf.stream.get(uid!, { account_id: account })).status?.state).toBe('pendingupload');
    const good = await browserPost(uploadURL!, media('small.mp4'));
    expect(good.status).toBe(200);
  });

  it('fails a video longer than maxDurationSeconds with ERR_DURATION_EXCEED_CONSTRAINT', async () => {
    const account = freshAccount();
    const { uploadURL, uid } = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 1 });
    expect((await browserPost(uploadURL!, media('small.mp4'))).status).toBe(200);
    const v = await cf.stream.get(uid!, { account_id: account });
    expect(v.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_DURATION_EXCEED_CONSTRAINT' });
  });

  it('answers 404 for an unknown one-time URL', async () => {
    const res = await browserPost(`${server.url}/upload/0123456789abcdef0123456789abcdef`, media('small.mp4'));
    expect(res.status).toBe(404);
    const bad = await browserPost(`${server.url}/upload/..%2F..%2Fetc`, media('small.mp4'));
    expect(bad.status).toBe(404);
  });
});
