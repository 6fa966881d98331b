// Bad input gets a clear 4xx in Cloudflare's failure envelope, never a 500, and the server keeps serving.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { basicUpload, uploadVideo } from './helpers/upload.js';

const VIDEO_PATH = '/accounts/{account_id}/stream/{identifier}';
let server: TestServer;
let account: string;
let uid: string;

beforeAll(async () => {
  server = await startTestServer();
  account = freshAccount();
  uid = await uploadVideo(server, account, media('small.mp4'));
});
afterAll(async () => {
  await server?.close();
});

interface Failure {
  status: number;
  body: { success: boolean; result: null; errors: { code: number; message: string }[]; messages: unknown[] };
}

async function call(method: string, path: string, init: RequestInit = {}): Promise<Failure> {
  const res = await fetch(`${server.apiBase}${path}`, { method, ...init });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function expectFailure(r: Failure, status: number, code: number): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.success).toBe(false);
  expect(r.body.result).toBeNull();
  expect(r.body.messages).toEqual([]);
  expect(r.body.errors[0]!.code).toBe(code);
  expect(r.body.errors[0]!.message.length).toBeGreaterThan(0);
}

describe('edit with bad input', () => {
  const cases: [string, unknown][] = [
    ['a string for a boolean', { requireSignedURLs: 'maybe' }],
    ['a number out of range', { thumbnailTimestampPct: 2 }],
    ['meta that is not an object', { meta: 'x' }],
    ['a creator over 64 characters', { creator: 'c'.repeat(65) }],
    ['a string for an array', { allowedOrigins: 'example.com' }],
    ['a numeric string for an integer', { maxDurationSeconds: '60' }],
    ['maxDurationSeconds of 0', { maxDurationSeconds: 0 }],
    ['a date that is not RFC 3339', { scheduledDeletion: 'tomorrow' }],
    ['a body that is an array', [1, 2]],
    ['a body uid of another video', { uid: '0123456789abcdef0123456789abcdef' }],
  ];
  it.each(cases)('refuses %s with 400 / 10005', async (_name, body) => {
    const r = await call('POST', `/accounts/${account}/stream/${uid}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expectFailure(r, 400, 10005);
    expectSchema('POST', VIDEO_PATH, '4XX', r.body);
  });

  it('refuses malformed JSON with 400 / 6007', async () => {
    const r = await call('POST', `/accounts/${account}/stream/${uid}`, { headers: { 'content-type': 'application/json' }, body: '{"meta": ' });
    expectFailure(r, 400, 6007);
  });

  it('reports the field that is wrong', async () => {
    const r = await call('POST', `/accounts/${account}/stream/${uid}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ thumbnailTimestampPct: 'abc' }),
    });
    expectFailure(r, 400, 10005);
    expect(r.body.errors[0]!.message).toContain('thumbnailTimestampPct');
  });
});

describe('unknown and malformed ids', () => {
  it('answers 404 / 10003 for a well-formed uid the account does not hold', async () => {
    const r = await call('GET', `/accounts/${account}/stream/0123456789abcdef0123456789abcdef`);
    expectFailure(r, 404, 10003);
    expectSchema('GET', VIDEO_PATH, '4XX', r.body);
  });

  it('answers 400 / 10005 for a malformed id, through the SDK too', async () => {
    const r = await call('GET', `/accounts/${account}/stream/not-a-uid`);
    expectFailure(r, 400, 10005);
    const err = await server.sdk().stream.get('a/b c?', { account_id: account }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    expect((err as InstanceType<typeof Cloudflare.APIError>).errors[0]).toMatchObject({ code: 10005 });
  });

  it('answers 404 / 7003 for a path no operation serves', async () => {
    expectFailure(await call('GET', '/accounts/x/nothing-here'), 404, 7003);
    expectFailure(await call('PATCH', `/accounts/${account}/stream/storage-usage`), 404, 7003);
  });
});

describe('list with bad query', () => {
  it('refuses an unknown status, a bad date and a non-numeric limit', async () => {
    expectFailure(await call('GET', `/accounts/${account}/stream?status=done`), 400, 10005);
    expectFailure(await call('GET', `/accounts/${account}/stream?after=yesterday`), 400, 10005);
    expectFailure(await call('GET', `/accounts/${account}/stream?limit=abc`), 400, 10005);
    expectFailure(await call('GET', `/accounts/${account}/stream?type=film`), 400, 10005);
  });

  it('caps a limit over 1000 instead of failing', async () => {
    const r = await call('GET', `/accounts/${account}/stream?limit=5000`);
    expect(r.status).toBe(200);
  });
});

describe('uploads that are refused', () => {
  let limited: TestServer;
  beforeAll(async () => {
    // A small basic-upload limit, so that "too large" needs no large file.
    limited = await startTestServer({ maxBasicUploadBytes: 10_000 });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it.each(['notes.txt', 'still.png'])('refuses %s as not a video with 400 / 10059 and keeps nothing', async (name) => {
    const acc = freshAccount();
    const mediaBefore = readdirSync(join(server.dataDir, 'media')).length;
    const { status, body } = await basicUpload(server, acc, media(name));
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ code: 10059, message: 'The file was not recognized as a valid video file.' }]);
    expect(readdirSync(join(server.dataDir, 'incoming'))).toEqual([]);
    expect(readdirSync(join(server.dataDir, 'media')).length).toBe(mediaBefore);
    expect((await server.sdk().stream.list({ account_id: acc })).result).toEqual([]);
  });

  it('answers 413 for a file over the limit, whether it says so up front or not', async () => {
    // Declared too large: refused before reading.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(200_000)]), 'big.mp4');
    const r1 = await fetch(limited.streamUrl(account), { method: 'POST', body: form });
    expect(r1.status).toBe(413);
    // Within the declared slack but over the limit once streamed.
    const { status, body } = await basicUpload(limited, account, media('small.mp4'));
    expect(status).toBe(413);
    expect(body.success).toBe(false);
    expect(readdirSync(join(limited.dataDir, 'incoming'))).toEqual([]);
    expect((await limited.sdk().stream.list({ account_id: account })).result).toEqual([]);
  });

  it('refuses a body without a file field, and a JSON body', async () => {
    const form = new FormData();
    form.append('video', new Blob(['x']), 'x.mp4');
    const r1 = await fetch(server.streamUrl(account), { method: 'POST', body: form });
    expect(r1.status).toBe(400);
    const r2 = await call('POST', `/accounts/${account}/stream`, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r2.status).toBe(400);
    expect(r2.body.success).toBe(false);
  });
});

describe('after all of that', () => {
  it('is still serving', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });
});
