// Webhooks: the subscription through the official SDK, and signed deliveries to a receiver on
// loopback, as an app's endpoint would take them: one event per settled video, retried until the
// receiver answers, kept across a restart, inspectable through /_ministream/webhooks/deliveries.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { fileBytes, runTus } from './helpers/tus.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const RETRY_BASE_MS = 50;

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { uid: string; status: { state: string; errorReasonCode: string }; readyToStream: boolean } & Record<string, unknown>;
  /** The status this receiver answered. */
  answered: number;
}

/** An app's webhook endpoint on 127.0.0.1: answers `answer(n)` to its n-th request (from 1); 0 never answers. */
class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  port = 0;

  constructor(public answer: (n: number) => number = () => 200) {}

  async listen(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const answered = this.answer(this.received.length + 1);
        this.received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Received['body'], answered });
        if (answered === 0) return; // hang: no answer at all
        res.writeHead(answered, { 'content-type': 'text/plain' }).end('thanks');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/stream`;
  }

  /** Events this receiver accepted (answered 2xx), for one video. */
  accepted(uid: string): Received[] {
    return this.received.filter((r) => r.body.uid === uid && r.answered >= 200 && r.answered < 300);
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
    this.server = undefined;
  }
}

/** What a receiver does with Webhook-Signature, as Cloudflare's docs describe it. */
function verifySignature(header: string | string[] | undefined, raw: string, secret: string): boolean {
  const parts = Object.fromEntries(String(header).split(',').map((p) => p.split('=') as [string, string]));
  const time = Number(parts.time);
  if (!Number.isInteger(time) || Math.abs(Date.now() / 1000 - time) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${parts.time}.${raw}`).digest();
  const given = Buffer.from(parts.sig1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface DeliveryJson {
  id: number;
  videoUid: string;
  event: string;
  state: 'pending' | 'delivered' | 'failed';
  attemptCount: number;
  lastError: string | null;
  payload: { uid: string };
  attempts: { statusCode: number | null; error: string | null; outcome: string; durationMs: number; started: string }[];
}

let server: TestServer;
let cf: Cloudflare;
const receivers: Receiver[] = [];

async function receiver(answer?: (n: number) => number): Promise<Receiver> {
  const r = await new Receiver(answer).listen();
  receivers.push(r);
  return r;
}

async function deliveries(s: TestServer, query: Record<string, string>): Promise<DeliveryJson[]> {
  const res = await fetch(`${s.url}/_ministream/webhooks/deliveries?${new URLSearchParams(query)}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { success: boolean; result: DeliveryJson[] };
  expect(body.success).toBe(true);
  return body.result;
}

const deliveriesUntil = (s: TestServer, query: Record<string, string>, done: (d: DeliveryJson[]) => boolean) =>
  waitFor(() => deliveries(s, query), done);

/** A tus upload of a text file: the video ends in `error` (ERR_NON_VIDEO) as the last byte lands. */
async function erroredVideo(s: TestServer, account: string): Promise<string> {
  const { mediaId } = await runTus(fileBytes(media('notes.txt')), { endpoint: s.streamUrl(account) });
  return mediaId!;
}

async function subscribe(account: string, url: string, client = cf): Promise<string> {
  const hook = await client.stream.webhooks.update({ account_id: account, notificationUrl: url });
  return hook.secret!;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast', webhookRetryBaseMs: RETRY_BASE_MS });
  cf = server.sdk();
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => server?.close());

describe('the webhook subscription (SDK)', () => {
  it('subscribes, reads, moves and deletes the one webhook of an account', async () => {
    const account = freshAccount();
    const raw = await cf.stream.webhooks.update({ account_id: account, notificationUrl: 'http://127.0.0.1:9/a' }).asResponse();
    const body = await raw.json();
    expectSchema('PUT', '/accounts/{account_id}/stream/webhook', '200', body);
    const created = body.result as { notificationUrl: string; modified: string; secret: string };
    expect(created.notificationUrl).toBe('http://127.0.0.1:9/a');
    expect(created.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(Number.isNaN(Date.parse(created.modified))).toBe(false);

    const got = await cf.stream.webhooks.get({ account_id: account });
    expect(got).toEqual(created);
    expectSchema('GET', '/accounts/{account_id}/stream/webhook', '200', await cf.stream.webhooks.get({ account_id: account }).asResponse().then((r) => r.json()));

    // A new URL replaces the old one (one per account) and keeps the secret (our choice).
    const moved = await cf.stream.webhooks.update({ account_id: account, notification_url: 'https://localhost:8443/b' });
    expect(moved).toMatchObject({ notificationUrl: 'https://localhost:8443/b', secret: created.secret });
    expect(moved.modified! > created.modified).toBe(true);
    expect(await cf.stream.webhooks.get({ account_id: account })).toEqual(moved);

    // Accounts do not share subscriptions.
    await expect(cf.stream.webhooks.get({ account_id: freshAccount() })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);

    const delRaw = await cf.stream.webhooks.delete({ account_id: account }).asResponse();
    const delBody = await delRaw.json();
    expectSchema('DELETE', '/accounts/{account_id}/stream/webhook', '200', delBody);
    expect(delBody.result).toBe('ok');
    await expect(cf.stream.webhooks.get({ account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    await expect(cf.stream.webhooks.delete({ account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);

    // A new subscription after a delete gets a new secret.
    expect(await subscribe(account, 'http://127.0.0.1:9/c')).not.toBe(created.secret);
  });

  it.each([
    ['an ftp URL', { notificationUrl: 'ftp://x' }],
    ['not a URL', { notificationUrl: 'not a url' }],
    ['a relative path', { notificationUrl: '/hooks' }],
    ['no URL', {}],
    ['a number', { notificationUrl: 42 }],
  ])('refuses %s with 400', async (_name, payload) => {
    const account = freshAccount();
    const res = await fetch(server.streamUrl(account, '/webhook'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect(res.status).toBe(400);
    expectSchema('PUT', '/accounts/{account_id}/stream/webhook', '4XX', await res.json());
    await expect(cf.stream.webhooks.get({ account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it('refuses a PUT without a body, and the SDK call without a URL', async () => {
    const account = freshAccount();
    const res = await fetch(server.streamUrl(account, '/webhook'), { method: 'PUT' });
    expect(res.status).toBe(400);
    await expect(cf.stream.webhooks.update({ account_id: account })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
  });
});

describe('deliveries', () => {
  it('sends exactly one signed `ready` event, the video object as GET returns it', async () => {
    const account = freshAccount();
    const hooks = await receiver();
    const secret = await subscribe(account, hooks.url);
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const ready = await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready');
    await waitFor(async () => hooks.accepted(uid).length, (n) => n >= 1);
    await settle(300); // nothing else follows
    expect(hooks.received.filter((r) => r.body.uid === uid)).toHaveLength(1);
    const [event] = hooks.received;
    expect(event!.headers['content-type']).toMatch(/^application\/json/);
    expect(verifySignature(event!.headers['webhook-signature'], event!.raw, secret)).toBe(true);
    expect(verifySignature(event!.headers['webhook-signature'], event!.raw, 'another-secret')).toBe(false);
    // The bare video object (not an envelope), equal to what GET /stream/{uid} answers.
    expect(event!.body).not.toHaveProperty('result');
    expect(event!.body).toMatchObject({ uid, readyToStream: true, status: { state: 'ready' } });
    expect(event!.body).toEqual(JSON.parse(JSON.stringify(ready)));

    const [delivery] = await deliveries(server, { account_id: account });
    expect(delivery).toMatchObject({ videoUid: uid, event: 'ready', state: 'delivered', attemptCount: 1, lastError: null, payload: { uid } });
    expect(delivery!.attempts).toEqual([expect.objectContaining({ statusCode: 200, error: null, outcome: 'delivered' })]);
  });

  it('sends an `error` event when a tus upload is not a video; nothing for an account without a webhook', async () => {
    const account = freshAccount();
    const hooks = await receiver();
    const secret = await subscribe(account, hooks.url);
    const uid = await erroredVideo(server, account);
    await waitFor(async () => hooks.accepted(uid).length, (n) => n >= 1);
    const [event] = hooks.accepted(uid);
    expect(event!.body).toMatchObject({ uid, readyToStream: false, status: { state: 'error', errorReasonCode: 'ERR_NON_VIDEO' } });
    expect(verifySignature(event!.headers['webhook-signature'], event!.raw, secret)).toBe(true);

    const quiet = freshAccount();
    const quietUid = await erroredVideo(server, quiet);
    await settle(200);
    expect(await deliveries(server, { account_id: quiet })).toEqual([]);
    expect(hooks.received.some((r) => r.body.uid === quietUid)).toBe(false);
  });

  it('sends an `error` event for a copy whose file is not a video', async () => {
    const account = freshAccount();
    const hooks = await receiver();
    // A second server on loopback plays the file's origin: it serves text.
    const files = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('not a video\n'.repeat(50)));
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    try {
      await subscribe(account, hooks.url);
      const video = await cf.stream.copy.create({ account_id: account, url: `http://127.0.0.1:${(files.address() as { port: number }).port}/notes.txt` });
      await waitFor(async () => hooks.accepted(video.uid!).length, (n) => n >= 1);
      expect(hooks.accepted(video.uid!)[0]!.body.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_NON_VIDEO' });
    } finally {
      await new Promise((r) => files.close(r));
    }
  });

  it('retries a receiver that answers 500, then delivers once; every attempt is recorded', async () => {
    const account = freshAccount();
    const hooks = await receiver((n) => (n <= 3 ? 500 : 200));
    await subscribe(account, hooks.url);
    const uid = await erroredVideo(server, account);
    const [delivery] = await deliveriesUntil(server, { video_uid: uid }, (d) => d[0]?.state === 'delivered');
    await settle(300);
    expect(hooks.received.map((r) => r.answered)).toEqual([500, 500, 500, 200]);
    expect(hooks.accepted(uid)).toHaveLength(1);
    // One event, the same bytes each time.
    expect(new Set(hooks.received.map((r) => r.raw)).size).toBe(1);
    expect(delivery!.attemptCount).toBe(4);
    expect(delivery!.attempts.map((a) => [a.statusCode, a.outcome])).toEqual([
      [500, 'retry'],
      [500, 'retry'],
      [500, 'retry'],
      [200, 'delivered'],
    ]);
    expect(delivery!.attempts[0]!.error).toBe('HTTP 500');
    // Exponential backoff: 50, 100, 200 ms between the attempts.
    const starts = delivery!.attempts.map((a) => Date.parse(a.started));
    expect(starts[3]! - starts[0]!).toBeGreaterThanOrEqual(RETRY_BASE_MS * 7 - 20);
  });

  it('retries a receiver that is down (connection refused) until it comes up', async () => {
    const account = freshAccount();
    const probe = await new Receiver().listen();
    const port = probe.port;
    await probe.close(); // the port is now closed
    await subscribe(account, `http://127.0.0.1:${port}/hooks/stream`);
    const uid = await erroredVideo(server, account);
    const [down] = await deliveriesUntil(server, { video_uid: uid }, (d) => (d[0]?.attempts.length ?? 0) >= 3);
    expect(down!.state).toBe('pending');
    expect(down!.attempts[0]).toMatchObject({ statusCode: null, outcome: 'retry' });
    expect(down!.attempts[0]!.error).toMatch(/ECONNREFUSED/);

    const hooks = new Receiver();
    receivers.push(hooks);
    await hooks.listen(port);
    const [delivery] = await deliveriesUntil(server, { video_uid: uid }, (d) => d[0]?.state === 'delivered');
    await settle(300);
    expect(hooks.received).toHaveLength(1);
    expect(hooks.accepted(uid)).toHaveLength(1);
    expect(delivery!.attempts.at(-1)).toMatchObject({ statusCode: 200, outcome: 'delivered' });
  });

  it('gives up at once on a 4xx other than 408/429 (our choice)', async () => {
    const account = freshAccount();
    const hooks = await receiver(() => 401);
    await subscribe(account, hooks.url);
    const uid = await erroredVideo(server, account);
    const [delivery] = await deliveriesUntil(server, { video_uid: uid }, (d) => d[0]?.state === 'failed');
    await settle(300);
    expect(hooks.received).toHaveLength(1);
    expect(delivery).toMatchObject({ attemptCount: 1, lastError: 'HTTP 401' });
    expect(await deliveries(server, { account_id: account, state: 'failed' })).toHaveLength(1);
    expect(await deliveries(server, { account_id: account, state: 'delivered' })).toHaveLength(0);
  });

  it('stops retrying once the subscription is deleted', async () => {
    const account = freshAccount();
    const hooks = await receiver(() => 503);
    await subscribe(account, hooks.url);
    const uid = await erroredVideo(server, account);
    await waitFor(async () => hooks.received.length, (n) => n >= 2);
    await cf.stream.webhooks.delete({ account_id: account });
    const [delivery] = await deliveriesUntil(server, { video_uid: uid }, (d) => d[0]?.state === 'failed');
    expect(delivery!.lastError).toMatch(/deleted/);
    const count = hooks.received.length;
    await settle(500);
    expect(hooks.received.length).toBeLessThanOrEqual(count + 1); // at most the one already in flight
  });

  it('refuses a bad state filter on the control endpoint', async () => {
    const res = await fetch(`${server.url}/_ministream/webhooks/deliveries?state=lost`);
    expect(res.status).toBe(400);
  });
});

describe('across a restart', () => {
  it('keeps pending deliveries and delivers them, once, after the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ministream-webhooks-'));
    let first: TestServer | undefined;
    let second: TestServer | undefined;
    try {
      let up = false;
      const hooks = await receiver(() => (up ? 200 : 503));
      first = await startTestServer({ inMemory: false, dataDir, webhookRetryBaseMs: RETRY_BASE_MS });
      const account = freshAccount();
      const secret = await subscribe(account, hooks.url, first.sdk());
      const uid = await erroredVideo(first, account);
      await deliveriesUntil(first, { video_uid: uid }, (d) => (d[0]?.attempts.length ?? 0) >= 2);
      await first.close();
      expect(hooks.accepted(uid)).toHaveLength(0);

      up = true;
      second = await startTestServer({ inMemory: false, dataDir, webhookRetryBaseMs: RETRY_BASE_MS });
      // The subscription survived too.
      expect((await second.sdk().stream.webhooks.get({ account_id: account })).secret).toBe(secret);
      const [delivery] = await deliveriesUntil(second, { video_uid: uid }, (d) => d[0]?.state === 'delivered');
      await settle(300);
      expect(hooks.accepted(uid)).toHaveLength(1);
      expect(verifySignature(hooks.accepted(uid)[0]!.headers['webhook-signature'], hooks.accepted(uid)[0]!.raw, secret)).toBe(true);
      // The attempts before the restart are kept, followed by the one that got through.
      expect(delivery!.attempts.length).toBeGreaterThanOrEqual(3);
      expect(delivery!.attempts.slice(0, -1).every((a) => a.statusCode === 503 && a.outcome === 'retry')).toBe(true);
      expect(delivery!.attempts.at(-1)).toMatchObject({ statusCode: 200, outcome: 'delivered' });
    } finally {
      await first?.close();
      await second?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('sends again, at the next start, a delivery that was in flight when Ministream stopped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ministream-webhooks-'));
    let first: TestServer | undefined;
    let second: TestServer | undefined;
    try {
      // The receiver takes the first request and never answers it.
      const hooks = await receiver((n) => (n === 1 ? 0 : 200));
      first = await startTestServer({ inMemory: false, dataDir, webhookRetryBaseMs: RETRY_BASE_MS });
      const account = freshAccount();
      await subscribe(account, hooks.url, first.sdk());
      const uid = await erroredVideo(first, account);
      await waitFor(async () => hooks.received.length, (n) => n === 1);
      await first.close();

      second = await startTestServer({ inMemory: false, dataDir, webhookRetryBaseMs: RETRY_BASE_MS });
      const [delivery] = await deliveriesUntil(second, { video_uid: uid }, (d) => d[0]?.state === 'delivered');
      await settle(300);
      // At least once: the receiver saw it twice; the cut attempt was never recorded as one.
      expect(hooks.received.map((r) => r.body.uid)).toEqual([uid, uid]);
      expect(hooks.accepted(uid)).toHaveLength(1);
      expect(delivery!.attempts).toEqual([expect.objectContaining({ statusCode: 200, outcome: 'delivered' })]);
    } finally {
      await first?.close();
      await second?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
