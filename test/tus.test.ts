// tus uploads as Stream takes them, driven by tus-js-client and the cloudflare SDK.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { runCli } from './helpers/process.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { MiB, fileBytes, runTus, sha256, tusBody, tusStatus } from './helpers/tus.js';
import { LANDED_STATES, waitFor } from './helpers/wait.js';

let server: TestServer;
let cf: Cloudflare;
let noise: Buffer;

beforeAll(async () => {
  server = await startTestServer();
  cf = server.sdk();
  noise = fileBytes(media('noise.mp4'));
});
afterAll(async () => server?.close());

const b64 = (s: string) => Buffer.from(s).toString('base64');
const original = (s: { dataDir: string }, uid: string) => join(s.dataDir, 'media', uid, 'original');

describe('tus upload with tus-js-client', () => {
  it('uploads in 5 MiB chunks; the upload id is the video uid; the file lands byte for byte', async () => {
    const account = freshAccount();
    const states: string[] = [];
    const result = await runTus(noise, {
      endpoint: server.streamUrl(account),
      headers: { Authorization: 'Bearer t' },
      metadata: { name: 'noise.mp4', filetype: 'video/mp4' },
      onAfterResponse: (req) => {
        // While chunks arrive the video already exists, waiting for its bytes.
        if (req.getMethod() === 'PATCH' && states.length === 0) {
          states.push('patched');
        }
      },
      onChunkComplete: () => undefined,
    });
    expect(result.mediaId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.url).toBe(server.streamUrl(account, `/${result.mediaId}`));
    const video = await cf.stream.get(result.mediaId!, { account_id: account });
    expect(LANDED_STATES).toContain(video.status?.state);
    expect(video.size).toBe(noise.length);
    expect(video.meta).toEqual({ name: 'noise.mp4', filetype: 'video/mp4' });
    // The encode job probes the upload (the final PATCH does not wait for it): -1 until then, as on Cloudflare.
    const probed = await waitFor(() => cf.stream.get(result.mediaId!, { account_id: account }), (v) => v.input?.width !== -1);
    expect(probed.input).toEqual({ width: 640, height: 360 });
    expect(probed.duration).toBeCloseTo(2, 0);
    expect(sha256(readFileSync(original(server, result.mediaId!)))).toBe(sha256(noise));
    // The tus folder keeps nothing of a finished upload.
    expect(existsSync(join(server.dataDir, 'tus', result.mediaId!))).toBe(false);
  });

  it('creates the video in pendingupload, and resumes after the client drops', async () => {
    const account = freshAccount();
    const first = await runTus(noise, { endpoint: server.streamUrl(account), abortAfterChunks: 1 });
    const uid = first.mediaId!;
    const pending = await cf.stream.get(uid, { account_id: account });
    expect(pending.status?.state).toBe('pendingupload');
    expect(pending.duration).toBe(-1);
    const head = await fetch(first.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(head.headers.get('upload-offset')).toBe(String(5 * MiB));
    expect(head.headers.get('upload-length')).toBe(String(noise.length));

    const resumed = await runTus(noise, { uploadUrl: first.url });
    expect(resumed.url).toBe(first.url);
    expect(sha256(readFileSync(original(server, uid)))).toBe(sha256(noise));
    expect(LANDED_STATES).toContain((await cf.stream.get(uid, { account_id: account })).status?.state);
    // A finished upload reports itself complete to a client that resumes it again.
    const done = await fetch(first.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(done.status).toBe(200);
    expect(done.headers.get('upload-offset')).toBe(String(noise.length));
  });

  it('maps Upload-Metadata and Upload-Creator onto the video like Stream', async () => {
    const account = freshAccount();
    const small = fileBytes(media('small.mp4'));
    const { mediaId } = await runTus(small, {
      endpoint: server.streamUrl(account),
      headers: { 'Upload-Creator': 'creator-7' },
      metadata: {
        name: 'holiday.mp4',
        requiresignedurls: '',
        allowedorigins: 'example.com,localhost:3000',
        thumbnailtimestamppct: '0.25',
        maxDurationSeconds: '600',
        relativePath: 'null',
      },
    });
    const v = await cf.stream.get(mediaId!, { account_id: account });
    expect(v).toMatchObject({
      meta: { name: 'holiday.mp4', relativePath: 'null' },
      requireSignedURLs: true,
      allowedOrigins: ['example.com', 'localhost:3000'],
      thumbnailTimestampPct: 0.25,
      maxDurationSeconds: 600,
      creator: 'creator-7',
      uploadExpiry: null,
    });
    const raw = await cf.stream.get(mediaId!, { account_id: account }).asResponse();
    expectSchema('GET', '/accounts/{account_id}/stream/{identifier}', '200', await raw.json());
  });
});

describe('tus creation through the SDK', () => {
  it('stream.create answers 201 with an absolute Location and stream-media-id, which tus-js-client finishes', async () => {
    const account = freshAccount();
    const small = fileBytes(media('small.mp4'));
    const { response } = await cf.stream
      .create({
        account_id: account,
        'Tus-Resumable': '1.0.0',
        'Upload-Length': small.length,
        'Upload-Metadata': `name ${b64('sdk.mp4')},requiresignedurls`,
        'Upload-Creator': '',
      })
      .withResponse();
    expect(response.status).toBe(201);
    const uid = response.headers.get('stream-media-id')!;
    expect(uid).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get('location')).toBe(server.streamUrl(account, `/${uid}`));
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('stream-media-id');
    await runTus(small, { uploadUrl: response.headers.get('location')! });
    const v = await cf.stream.get(uid, { account_id: account });
    expect(v).toMatchObject({ meta: { name: 'sdk.mp4' }, requireSignedURLs: true, creator: null });
    expect(LANDED_STATES).toContain(v.status?.state);
  });
});

describe('browsers', () => {
  it('answer CORS preflights on the creation and chunk URLs, and expose the tus headers', async () => {
    const account = freshAccount();
    for (const url of [server.streamUrl(account), `${server.url}/tus/0123456789abcdef0123456789abcdef`]) {
      const res = await fetch(url, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'tus-resumable,upload-offset,content-type' },
      });
      expect(res.status, url).toBeLessThan(300);
      expect(res.headers.get('access-control-allow-origin')).toBeTruthy();
    }
    const created = await fetch(server.streamUrl(account), {
      method: 'POST',
      headers: { Origin: 'https://app.example.com', 'Tus-Resumable': '1.0.0', 'Upload-Length': '100' },
    });
    const exposed = created.headers.get('access-control-expose-headers')?.toLowerCase() ?? '';
    for (const h of ['location', 'stream-media-id', 'upload-offset', 'upload-length', 'tus-resumable']) expect(exposed).toContain(h);
  });
});

describe('direct-user tus (?direct_user=true)', () => {
  it('hands out a token-free Location that tus-js-client finishes without credentials', async () => {
    const locked = await startTestServer({ apiTokens: ['secret'] });
    try {
      const account = freshAccount();
      const small = fileBytes(media('small.mp4'));
      const create = await fetch(`${locked.streamUrl(account)}?direct_user=true`, {
        method: 'POST',
        headers: { Authorization: 'Bearer secret', 'Tus-Resumable': '1.0.0', 'Upload-Length': String(small.length), 'Upload-Metadata': `name ${b64('creator.mp4')}` },
      });
      expect(create.status).toBe(201);
      const location = create.headers.get('location')!;
      const uid = create.headers.get('stream-media-id')!;
      expect(location).toBe(`${locked.url}/tus/${uid}?tusv2=true`);
      const pending = await locked.sdk({ apiToken: 'secret' }).stream.get(uid, { account_id: account });
      expect(pending.status?.state).toBe('pendingupload');
      expect(pending.maxDurationSeconds).toBe(14400); // 4 h reserved when the creator sets none
      expect(pending.uploadExpiry).not.toBeNull();
      // The browser side: no Authorization header at all.
      await runTus(small, { uploadUrl: location });
      const done = await locked.sdk({ apiToken: 'secret' }).stream.get(uid, { account_id: account });
      expect(LANDED_STATES).toContain(done.status?.state);
      // Without the token the API path itself stays closed.
      const denied = await fetch(`${locked.streamUrl(account)}`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' } });
      expect(denied.status).toBe(401);
    } finally {
      await locked.close();
    }
  });

  it('does not serve an API-token upload on the token-free path', async () => {
    const account = freshAccount();
    const first = await runTus(noise, { endpoint: server.streamUrl(account), abortAfterChunks: 1 });
    const res = await fetch(`${server.url}/tus/${first.mediaId}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(res.status).toBe(404);
  });
});

describe('refusals', () => {
  const create = (account: string, headers: Record<string, string>) =>
    fetch(server.streamUrl(account), { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', ...headers } });

  it('enforces Cloudflare\'s chunk rules', async () => {
    const account = freshAccount();
    await expect(runTus(noise, { endpoint: server.streamUrl(account), chunkSize: 1 * MiB })).rejects.toSatisfy(
      (err) => tusStatus(err) === 400 && /at least 5MiB/.test(tusBody(err) ?? ''),
    );
    await expect(runTus(noise, { endpoint: server.streamUrl(account), chunkSize: 5 * MiB + 1 })).rejects.toSatisfy(
      (err) => tusStatus(err) === 400 && /multiple of 256KiB/.test(tusBody(err) ?? ''),
    );
  });

  it('takes chunks of any size with --lenient-tus-chunks', async () => {
    const lenient = await startTestServer({ lenientTusChunks: true });
    try {
      const account = freshAccount();
      const { mediaId } = await runTus(noise, { endpoint: lenient.streamUrl(account), chunkSize: 3 * MiB + 7 });
      expect(sha256(readFileSync(original(lenient, mediaId!)))).toBe(sha256(noise));
    } finally {
      await lenient.close();
    }
  });

  it('refuses a bad Upload-Length, bad metadata and bad option values with 400 and a clear message', async () => {
    const account = freshAccount();
    const variants: Record<string, string>[] = [
      { 'Upload-Length': 'twelve' },
      { 'Upload-Length': '-5' },
      {},
      { 'Upload-Length': '10', 'Upload-Metadata': 'name not*base64!' },
      { 'Upload-Length': '10', 'Upload-Metadata': `thumbnailtimestamppct ${b64('2')}` },
      { 'Upload-Length': '10', 'Upload-Metadata': `maxdurationseconds ${b64('0')}` },
      { 'Upload-Length': '10', 'Upload-Metadata': `expiry ${b64('yesterday')}` },
      { 'Upload-Defer-Length': '1' },
    ];
    for (const headers of variants) {
      const res = await create(account, headers);
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect((await res.text()).length).toBeGreaterThan(3);
    }
    expect((await cf.stream.list({ account_id: account })).result).toEqual([]);
  });

  it('answers 404 for an unknown upload and for another account\'s upload', async () => {
    const account = freshAccount();
    const unknown = await fetch(server.streamUrl(account, '/0123456789abcdef0123456789abcdef'), { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(unknown.status).toBe(404);
    const first = await runTus(noise, { endpoint: server.streamUrl(account), abortAfterChunks: 1 });
    const other = await fetch(server.streamUrl(freshAccount(), `/${first.mediaId}`), { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(other.status).toBe(404);
  });

  it('terminates an upload with DELETE + Tus-Resumable: video and bytes are gone', async () => {
    const account = freshAccount();
    const first = await runTus(noise, { endpoint: server.streamUrl(account), abortAfterChunks: 1 });
    const res = await fetch(first.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(res.status).toBe(204);
    await expect(cf.stream.get(first.mediaId!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    expect(existsSync(join(server.dataDir, 'tus', first.mediaId!))).toBe(false);
  });

  it('ends a tus upload that is not a video in state error, ERR_NON_VIDEO', async () => {
    const account = freshAccount();
    const { mediaId } = await runTus(fileBytes(media('notes.txt')), { endpoint: server.streamUrl(account) });
    // The encode job finds it is no video (as Cloudflare's processing does, after the upload).
    const v = await waitFor(() => cf.stream.get(mediaId!, { account_id: account }), (video) => video.status?.state === 'error');
    expect(v.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_NON_VIDEO' });
    expect(existsSync(original(server, mediaId!))).toBe(false);
    expect(v.readyToStream).toBe(false);
  });

  it('ends a video longer than its maxDurationSeconds in state error, ERR_DURATION_EXCEED_CONSTRAINT', async () => {
    const account = freshAccount();
    const { mediaId } = await runTus(fileBytes(media('small.mp4')), { endpoint: server.streamUrl(account), metadata: { maxdurationseconds: '1' } });
    const v = await waitFor(() => cf.stream.get(mediaId!, { account_id: account }), (video) => video.status?.state !== 'queued' && video.status?.state !== 'inprogress');
    expect(v.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_DURATION_EXCEED_CONSTRAINT' });
    expect(existsSync(original(server, mediaId!))).toBe(false);
    expect(v.duration).toBeCloseTo(2, 0);
  });
});

describe('abandoned uploads', () => {
  it('refuses chunks after expiry and sweeps the video and its bytes', async () => {
    const account = freshAccount();
    const expiry = new Date(Date.now() + 1500).toISOString();
    const first = await runTus(noise, { endpoint: server.streamUrl(account), abortAfterChunks: 1, metadata: { expiry } });
    expect(existsSync(join(server.dataDir, 'tus', first.mediaId!))).toBe(true);
    await new Promise((r) => setTimeout(r, 1600));
    // The one chunk pushed expiry out by its grace period: move it back to test the sweep.
    server.app.ministream.transaction(() => server.app.ministream.uploads.touch(first.mediaId!, '2000-01-01T00:00:00.000000Z'));
    const late = await runTus(noise, { uploadUrl: first.url }).catch((e: unknown) => e);
    expect(tusStatus(late)).toBe(410);
    const swept = await server.sweeper.sweep();
    expect(swept.abandonedUploads).toContain(first.mediaId);
    await expect(cf.stream.get(first.mediaId!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    expect(existsSync(join(server.dataDir, 'tus', first.mediaId!))).toBe(false);
    expect(existsSync(join(server.dataDir, 'tus', `${first.mediaId}.json`))).toBe(false);
  });
});

describe('resume after the server is killed', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  async function freePort(): Promise<number> {
    return new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
  }

  it('HEAD reports the offset after kill -9 and a restart, and the finished file is byte-identical', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ministream-tus-'));
    dirs.push(dataDir);
    const port = await freePort();
    const first = runCli(['--port', String(port), '--data-dir', dataDir]);
    const url = await first.ready;
    const account = 'acc-restart';
    const partial = await runTus(noise, { endpoint: `${url}/client/v4/accounts/${account}/stream`, abortAfterChunks: 2 });
    first.child.kill('SIGKILL');
    await first.exited;

    const second = runCli(['--port', String(port), '--data-dir', dataDir]);
    try {
      await second.ready;
      const head = await fetch(partial.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
      expect(head.status).toBe(200);
      expect(head.headers.get('upload-offset')).toBe(String(10 * MiB));
      await runTus(noise, { uploadUrl: partial.url });
      expect(sha256(readFileSync(join(dataDir, 'media', partial.mediaId!, 'original')))).toBe(sha256(noise));
      const client = new Cloudflare({ baseURL: `${url}/client/v4`, apiToken: 't', maxRetries: 0 });
      expect(LANDED_STATES).toContain((await client.stream.get(partial.mediaId!, { account_id: account })).status?.state);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
