// The control API for tests (/_ministream/*), used as an app's test suite would: reset between
// tests, make a video fail or hold it in `inprogress`, inject faults that the official SDK sees,
// read the request log, and seed a folder of media files at start.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAsBlob } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import type { RequestEntry } from '../src/control/request-log.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

interface Envelope<T> {
  success: boolean;
  result: T;
  errors: { code: number; message: string }[];
}

type LoggedRequest = RequestEntry;

async function control<T>(server: TestServer, method: string, path: string, body?: unknown): Promise<{ status: number; body: Envelope<T> }> {
  const res = await fetch(`${server.url}/_ministream${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

async function ok<T>(server: TestServer, method: string, path: string, body?: unknown): Promise<T> {
  const { status, body: answer } = await control<T>(server, method, path, body);
  expect(status, JSON.stringify(answer)).toBe(200);
  expect(answer.success).toBe(true);
  return answer.result;
}

const stateOf = async (cf: Cloudflare, account: string, uid: string) => (await cf.stream.get(uid, { account_id: account })).status?.state;

async function readyVideo(server: TestServer, cf: Cloudflare, account: string): Promise<string> {
  const uid = await uploadVideo(server, account, media('small.mp4'));
  await waitFor(() => stateOf(cf, account, uid), (s) => s === 'ready');
  return uid;
}

async function notFound(cf: Cloudflare, account: string, uid: string): Promise<boolean> {
  return cf.stream.get(uid, { account_id: account }).then(
    () => false,
    (err: unknown) => err instanceof Cloudflare.NotFoundError,
  );
}

let server: TestServer;
let cf: Cloudflare;

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast' });
  cf = server.sdk();
});
afterAll(() => server.close());

describe('POST /_ministream/reset', () => {
  it("deletes one account's videos, rows and files and leaves the other accounts alone", async () => {
    const [a, b] = [freshAccount(), freshAccount()];
    const [va, vb] = [await readyVideo(server, cf, a), await readyVideo(server, cf, b)];
    await cf.stream.keys.create({ account_id: a });
    await cf.stream.keys.create({ account_id: b });
    await cf.stream.webhooks.update({ account_id: a, notificationUrl: 'http://127.0.0.1:9/hook' });
    const mediaDir = join(server.dataDir, 'media');
    expect(existsSync(join(mediaDir, va))).toBe(true);

    const result = await ok<{ accountId: string; videos: number; deleted: Record<string, number> }>(server, 'POST', '/reset', { account_id: a });
    expect(result).toMatchObject({ accountId: a, videos: 1 });
    expect(result.deleted).toMatchObject({ videos: 1, signing_keys: 1, webhooks: 1, jobs: 1 });

    expect(await notFound(cf, a, va)).toBe(true);
    expect(existsSync(join(mediaDir, va))).toBe(false);
    expect((await cf.stream.list({ account_id: a })).result).toEqual([]);
    expect((await cf.stream.keys.get({ account_id: a })).result).toEqual([]);
    await expect(cf.stream.webhooks.get({ account_id: a })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    // The other account is untouched.
    expect(await stateOf(cf, b, vb)).toBe('ready');
    expect(existsSync(join(mediaDir, vb))).toBe(true);
    expect((await cf.stream.keys.get({ account_id: b })).result).toHaveLength(1);
    // The account starts again from nothing, without a restart.
    const again = await readyVideo(server, cf, a);
    expect((await cf.stream.list({ account_id: a })).result.map((v) => v.uid)).toEqual([again]);
  });

  it('deletes everything (query form too), files included, and clears faults and the request log', async () => {
    const [a, b] = [freshAccount(), freshAccount()];
    const [va, vb] = [await readyVideo(server, cf, a), await readyVideo(server, cf, b)];
    await ok(server, 'POST', '/faults', { route: '/nowhere', status: 500 });

    const res = await fetch(`${server.url}/_ministream/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Envelope<{ accountId: null; videos: number }>;
    expect(body.result.accountId).toBeNull();
    expect(body.result.videos).toBeGreaterThanOrEqual(2);

    expect(await ok<unknown[]>(server, 'GET', '/requests')).toEqual([]);
    expect(await ok<unknown[]>(server, 'GET', '/faults')).toEqual([]);
    expect(await notFound(cf, a, va)).toBe(true);
    expect(await notFound(cf, b, vb)).toBe(true);
    expect(readdirSync(join(server.dataDir, 'media'))).toEqual([]);
    // The schema survives: the server goes on as new.
    const uid = await readyVideo(server, cf, a);
    expect(await stateOf(cf, a, uid)).toBe('ready');
  });

  it('leaves no trace of a video whose encode was running, and the job ends quietly', async () => {
    const account = freshAccount();
    const uid = await heldInProgress(account);

    await ok(server, 'POST', '/reset', { account_id: account });
    expect(await notFound(cf, account, uid)).toBe(true);
    expect(await ok<unknown[]>(server, 'GET', '/holds')).toEqual([]);
    // The released job found no row: it left no folder behind, and the queue still works.
    await waitFor(async () => existsSync(join(server.dataDir, 'media', uid)), (exists) => !exists);
    const next = await readyVideo(server, cf, account);
    expect(await stateOf(cf, account, next)).toBe('ready');
  });
});

async function postFile(url: string, file: string): Promise<void> {
  const form = new FormData();
  form.append('file', await openAsBlob(file), 'clip.mp4');
  const res = await fetch(url, { method: 'POST', body: form });
  expect(res.status).toBe(200);
}

/** A direct upload named before its bytes, held, then uploaded: its encode runs but cannot finish. */
async function heldInProgress(account: string): Promise<string> {
  const direct = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 });
  const uid = direct.uid!;
  const held = await ok<{ uid: string; held: boolean; state: string }>(server, 'POST', `/videos/${uid}/hold`);
  expect(held).toEqual({ uid, held: true, state: 'pendingupload' });
  await postFile(direct.uploadURL!, media('small.mp4'));
  await waitFor(() => stateOf(cf, account, uid), (s) => s === 'inprogress');
  return uid;
}

describe('lifecycle steering', () => {
  it('fails a video with a chosen errorReasonCode: GET and the webhook show it', async () => {
    const account = freshAccount();
    await cf.stream.webhooks.update({ account_id: account, notificationUrl: 'http://127.0.0.1:9/hook' });
    const uid = await readyVideo(server, cf, account);

    const failed = await ok<{ uid: string; status: { state: string; errorReasonCode: string; errorReasonText: string } }>(server, 'POST', `/videos/${uid}/fail`, {
      errorReasonCode: 'ERR_MALFORMED_VIDEO',
    });
    expect(failed.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_MALFORMED_VIDEO', errorReasonText: 'The video was deemed to be corrupted or malformed.' });

    const video = await cf.stream.get(uid, { account_id: account });
    expect(video.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_MALFORMED_VIDEO' });
    expect(video.readyToStream).toBe(false);
    // Delivery of an errored video answers 424, as on Cloudflare.
    expect((await fetch(`${server.url}/${uid}/manifest/video.m3u8`)).status).toBe(424);

    const deliveries = await ok<{ event: string; payload: { uid: string; status: { state: string; errorReasonCode: string } } }[]>(
      server,
      'GET',
      `/webhooks/deliveries?video_uid=${uid}`,
    );
    expect(deliveries.map((d) => d.event)).toEqual(['error', 'ready']);
    expect(deliveries[0]!.payload.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_MALFORMED_VIDEO' });
  });

  it('fails with ERR_UNKNOWN by default, or any code and text a test names; 404 for an unknown uid', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const res = await fetch(`${server.url}/_ministream/videos/${uid}/fail`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await cf.stream.get(uid, { account_id: account })).status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_UNKNOWN' });

    await ok(server, 'POST', `/videos/${uid}/fail`, { errorReasonCode: 'ERR_MY_CASE', errorReasonText: 'whatever the app must show' });
    expect((await cf.stream.get(uid, { account_id: account })).status).toMatchObject({ errorReasonCode: 'ERR_MY_CASE', errorReasonText: 'whatever the app must show' });
    // The encode that may still have been running did not turn it ready afterwards.
    await new Promise((r) => setTimeout(r, 300));
    expect(await stateOf(cf, account, uid)).toBe('error');

    const unknown = await control(server, 'POST', `/videos/${'0'.repeat(32)}/fail`, {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]!.code).toBe(10003);
  });

  it('holds a video in inprogress until released, then it becomes ready', async () => {
    const account = freshAccount();
    // A direct upload names the uid before any byte is sent: hold it, then upload.
    const uid = await heldInProgress(account);
    await new Promise((r) => setTimeout(r, 1500)); // a fast encode of this clip takes well under that
    const during = await cf.stream.get(uid, { account_id: account });
    expect(during.status?.state).toBe('inprogress');
    expect(during.readyToStream).toBe(false);
    expect(Number(during.status?.pctComplete)).toBeLessThan(100);
    expect(await ok<{ uid: string }[]>(server, 'GET', '/holds')).toEqual([{ uid, held: true, state: 'inprogress' }]);

    expect(await ok(server, 'POST', `/videos/${uid}/release`)).toEqual({ uid, held: false, state: 'inprogress' });
    await waitFor(() => stateOf(cf, account, uid), (s) => s === 'ready');
    expect((await fetch(`${server.url}/${uid}/manifest/video.m3u8`)).status).toBe(200);

    // Too late to hold a ready video.
    const late = await control(server, 'POST', `/videos/${uid}/hold`);
    expect(late.status).toBe(409);
  });

  it('a held video failed on purpose stays in error after its encode wakes up', async () => {
    const account = freshAccount();
    const uid = await heldInProgress(account);
    await ok(server, 'POST', `/videos/${uid}/fail`, { errorReasonCode: 'ERR_DURATION_EXCEED_CONSTRAINT' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await cf.stream.get(uid, { account_id: account })).status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_DURATION_EXCEED_CONSTRAINT' });
    expect((await fetch(`${server.url}/${uid}/manifest/video.m3u8`)).status).toBe(424);
  });
});

describe('fault injection', () => {
  it('answers 503 once on GET /stream/:id (probability 1, times 1); the SDK gets InternalServerError without retrying, then normal answers', async () => {
    const account = freshAccount();
    const uid = await readyVideo(server, cf, account);
    const fault = await ok<{ id: string; remaining: number; hits: number }>(server, 'POST', '/faults', {
      method: 'GET',
      route: '/client/v4/accounts/:account_id/stream/:identifier',
      status: 503,
      probability: 1,
      times: 1,
    });
    expect(fault).toMatchObject({ remaining: 1, hits: 0 });

    // The SDK's default retries would hide a retryable failure: x-should-retry: false stops them.
    const withRetries = server.sdk({ maxRetries: 2 });
    const err = await withRetries.stream.get(uid, { account_id: account }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.InternalServerError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof Cloudflare.APIError>).errors[0]).toMatchObject({ code: 10002 });

    expect((await withRetries.stream.get(uid, { account_id: account })).uid).toBe(uid);
    expect(await ok<unknown[]>(server, 'GET', '/faults')).toEqual([]);
    const log = await ok<LoggedRequest[]>(server, 'GET', `/requests?path_prefix=/client/v4/accounts/${account}/stream/${uid}&limit=2`);
    expect(log.map((r) => [r.method, r.status, r.fault])).toEqual([
      ['GET', 200, null],
      ['GET', 503, fault.id],
    ]);
  });

  it('matches by method, prefix glob and probability, answers a custom body, and can be listed and removed', async () => {
    const account = freshAccount();
    const faultOnPost = await ok<{ id: string }>(server, 'POST', '/faults', { method: 'POST', route: `/client/v4/accounts/${account}/*`, status: 429 });
    // GET is not POST: untouched.
    expect((await cf.stream.list({ account_id: account })).result).toEqual([]);
    const err = await cf.stream.keys.create({ account_id: account }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.RateLimitError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).errors[0]).toMatchObject({ code: 971 });

    const never = await ok<{ id: string }>(server, 'POST', '/faults', { route: '/client/v4/accounts/{account_id}/stream', status: 500, probability: 0 });
    const custom = await ok<{ id: string }>(server, 'POST', '/faults', { route: '/healthz', status: 502, body: { down: true }, should_retry: true });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-should-retry')).toBe('true');
    expect(res.headers.get('access-control-allow-origin')).toBe('*'); // a browser app can read it
    expect(await res.json()).toEqual({ down: true });
    expect((await cf.stream.list({ account_id: account })).result).toEqual([]); // probability 0

    const listed = await ok<{ id: string; hits: number; remaining: number | null }[]>(server, 'GET', '/faults');
    expect(listed.map((f) => [f.id, f.hits, f.remaining])).toEqual([
      [faultOnPost.id, 1, null],
      [never.id, 0, null],
      [custom.id, 1, null],
    ]);
    expect(await ok(server, 'DELETE', `/faults/${faultOnPost.id}`)).toEqual({ id: faultOnPost.id });
    expect((await control(server, 'DELETE', `/faults/${faultOnPost.id}`)).status).toBe(404);
    expect(await ok(server, 'DELETE', '/faults')).toEqual({ deleted: 2 });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // The control API itself is never faulted.
    await ok(server, 'POST', '/faults', { status: 500 });
    expect(await ok<unknown[]>(server, 'GET', '/faults')).toHaveLength(1);
    await ok(server, 'DELETE', '/faults');
  });

  it('delays a request, which then answers normally', async () => {
    const account = freshAccount();
    await ok(server, 'POST', '/faults', { method: 'GET', route: '/client/v4/accounts/:account_id/stream', delay_ms: 400, times: 1 });
    const started = Date.now();
    expect((await cf.stream.list({ account_id: account })).result).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    const again = Date.now();
    await cf.stream.list({ account_id: account });
    expect(Date.now() - again).toBeLessThan(390);
    const [logged] = await ok<LoggedRequest[]>(server, 'GET', `/requests?path_prefix=/client/v4/accounts/${account}/stream&limit=2`);
    expect(logged!.status).toBe(200);
  });

  it('refuses a fault with neither status nor delay', async () => {
    const res = await control(server, 'POST', '/faults', { route: '/x' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]!.code).toBe(10005);
  });
});

describe('GET /_ministream/requests', () => {
  it("shows the SDK's calls with their statuses, newest first, filtered; the control API only when asked", async () => {
    const account = freshAccount();
    await ok(server, 'DELETE', '/requests');
    await cf.stream.list({ account_id: account });
    await cf.stream.get('f'.repeat(32), { account_id: account }).catch(() => undefined);
    await cf.stream.keys.create({ account_id: account });
    await fetch(`${server.url}/healthz`);

    const log = await ok<LoggedRequest[]>(server, 'GET', '/requests');
    expect(log.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', `/client/v4/accounts/${account}/stream/keys`, 200],
      ['GET', `/client/v4/accounts/${account}/stream/${'f'.repeat(32)}`, 404],
      ['GET', `/client/v4/accounts/${account}/stream`, 200],
    ]);
    for (const r of log) {
      expect(r.accountId).toBe(account);
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(r.time)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect((await ok<LoggedRequest[]>(server, 'GET', '/requests?method=post')).map((r) => r.status)).toEqual([200]);
    expect(await ok<LoggedRequest[]>(server, 'GET', '/requests?limit=1')).toHaveLength(1);
    expect((await ok<LoggedRequest[]>(server, 'GET', '/requests?status=404')).map((r) => r.path)).toEqual([`/client/v4/accounts/${account}/stream/${'f'.repeat(32)}`]);

    const all = await ok<LoggedRequest[]>(server, 'GET', '/requests?include_control=true&limit=1000');
    expect(all.some((r) => r.path === '/healthz')).toBe(true);
    expect(all.some((r) => r.path === '/_ministream/requests')).toBe(true);

    await ok(server, 'DELETE', '/requests');
    expect(await ok<LoggedRequest[]>(server, 'GET', '/requests')).toEqual([]);
  });
});

describe('GET /_ministream/config', () => {
  it('shows the effective configuration with the tokens masked', async () => {
    const guarded = await startTestServer({ apiTokens: ['s3cret-token'], seedAccount: 'fixtures' });
    try {
      const config = await ok<Record<string, unknown>>(guarded, 'GET', '/config');
      expect(config).toMatchObject({ apiTokens: ['********'], seedAccount: 'fixtures', seed: null, inMemory: true, encoding: 'full' });
      expect(JSON.stringify(config)).not.toContain('s3cret');
      // The control API sits outside /client/v4 and its auth.
      expect((await fetch(`${guarded.url}/client/v4/accounts/x/stream`)).status).toBe(401);
    } finally {
      await guarded.close();
    }
  });
});

describe('--seed DIR', () => {
  it('ingests every media file of the folder once into the seed account, at start and on reseed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ministream-seed-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'ministream-seed-data-'));
    copyFileSync(media('small.mp4'), join(dir, 'intro.mp4'));
    copyFileSync(media('silent.mp4'), join(dir, 'b-roll.MOV'));
    writeFileSync(join(dir, 'readme.txt'), 'not media');
    writeFileSync(join(dir, 'broken.mp4'), 'not a video either');
    const names = async (s: TestServer, account: string) =>
      (await s.sdk().stream.list({ account_id: account, asc: true })).result.map((v) => (v.meta as { name: string }).name).sort();
    try {
      let seeded = await startTestServer({ seed: dir, encoding: 'fast', inMemory: false, dataDir });
      try {
        expect(await names(seeded, 'seed')).toEqual(['b-roll.MOV', 'intro.mp4']);
        const videos = await waitFor(
          async () => (await seeded.sdk().stream.list({ account_id: 'seed' })).result,
          (vs) => vs.every((v) => v.status?.state === 'ready'),
        );
        expect(videos.map((v) => v.meta)).toEqual(
          expect.arrayContaining([expect.objectContaining({ name: 'intro.mp4', seededFrom: 'intro.mp4' })]),
        );
      } finally {
        await seeded.close();
      }
      // A restart over the same data folder seeds nothing twice.
      seeded = await startTestServer({ seed: dir, encoding: 'fast', inMemory: false, dataDir });
      try {
        expect(await names(seeded, 'seed')).toEqual(['b-roll.MOV', 'intro.mp4']);
        // A reset with reseed gives the seed videos back, fresh.
        const before = (await seeded.sdk().stream.list({ account_id: 'seed' })).result.map((v) => v.uid);
        const reset = await ok<{ seeded: { ingested: { file: string }[]; refused: string[] } }>(seeded, 'POST', '/reset?reseed=true');
        expect(reset.seeded.ingested.map((i) => i.file).sort()).toEqual(['b-roll.MOV', 'intro.mp4']);
        expect(reset.seeded.refused).toEqual(['broken.mp4']);
        const after = (await seeded.sdk().stream.list({ account_id: 'seed' })).result.map((v) => v.uid);
        expect(after).toHaveLength(2);
        expect(after.some((uid) => before.includes(uid))).toBe(false);
      } finally {
        await seeded.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
