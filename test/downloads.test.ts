// MP4 downloads: created through the SDK, made from the finished stream, served on Cloudflare's
// paths with ?filename= and Range, behind the same access rules as the stream (downloadable tokens).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const tools = resolveMediaTools();
const scratch = mkdtempSync(join(tmpdir(), 'ministream-downloads-test-'));
let server: TestServer;
let cf: Cloudflare;
const account = freshAccount();
let uid: string;
let duration: number;

const DOWNLOADS_PATH = '/accounts/{account_id}/stream/{identifier}/downloads';
type Downloads = Awaited<ReturnType<Cloudflare['stream']['downloads']['get']>>;

async function ready(uid: string) {
  return waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 50);
}

function downloadsReady(videoUid: string, types: ('default' | 'audio')[]): Promise<Downloads> {
  return waitFor(
    () => cf.stream.downloads.get(videoUid, { account_id: account }),
    (d) => types.every((t) => d[t]?.status === 'ready'),
    30_000,
    50,
  );
}

/** Writes a fetched file to disk and asks ffprobe what it holds. */
async function probeBody(res: Response, name: string) {
  const bytes = Buffer.from(await res.arrayBuffer());
  const file = join(scratch, name);
  writeFileSync(file, bytes);
  return { bytes, probe: await ffprobe(tools.ffprobe.path, file) };
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(server.streamUrl(account, path), { ...init, headers: { authorization: 'Bearer test-token', ...init.headers } });

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast' });
  cf = server.sdk();
  uid = await uploadVideo(server, account, media('small.mp4'));
  duration = (await ready(uid)).duration!;
});
afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the default MP4', () => {
  let url: string;

  it('is created through the SDK, in progress then ready, with a numeric percentComplete', async () => {
    const raw = await cf.stream.downloads.create(uid, { account_id: account }).asResponse();
    const body = await raw.json();
    expectSchema('POST', DOWNLOADS_PATH, '200', body);
    expect(Object.keys(body.result)).toEqual(['default']);
    expect(['inprogress', 'ready']).toContain(body.result.default.status);
    expect(typeof body.result.default.percentComplete).toBe('number');
    url = body.result.default.url;
    expect(url).toBe(`${server.url}/${uid}/downloads/default.mp4`);

    const done = await downloadsReady(uid, ['default']);
    expect(done.default).toEqual({ status: 'ready', percentComplete: 100, url });
    const listed = await (await api(`/${uid}/downloads`)).json();
    expectSchema('GET', DOWNLOADS_PATH, '200', listed);
  });

  it('creating it again leaves the ready download as it is', async () => {
    const again = await cf.stream.downloads.create(uid, { account_id: account });
    expect(again.default).toEqual({ status: 'ready', percentComplete: 100, url });
  });

  it('is an H.264 + AAC MP4 of the video\'s duration, moov first (+faststart)', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-disposition')).toBeNull();
    const { bytes, probe } = await probeBody(res, 'default.mp4');
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Number(probe.format.duration)).toBeCloseTo(duration, 1);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat'));
  });

  it('?filename= names the file, the extension added; a bad name is refused', async () => {
    const named = await fetch(`${url}?filename=holiday`);
    expect(named.status).toBe(200);
    expect(named.headers.get('content-disposition')).toBe('attachment; filename="holiday.mp4"');
    await named.arrayBuffer();
    for (const bad of ['holiday.mp4', 'my holiday', 'a'.repeat(121), '', '../x']) {
      const res = await fetch(`${url}?filename=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).errors[0].message).toContain('filename');
    }
    expect((await fetch(`${url}?filename=${'a'.repeat(120)}`)).status).toBe(200);
  });

  it('answers Range requests with 206, and 416 for a range past the end', async () => {
    const whole = Number((await fetch(url, { method: 'HEAD' })).headers.get('content-length'));
    expect(whole).toBeGreaterThan(1000);
    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${whole}`);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const tail = await fetch(url, { headers: { range: 'bytes=-50' } });
    expect(tail.status).toBe(206);
    expect((await tail.arrayBuffer()).byteLength).toBe(50);
    const past = await fetch(url, { headers: { range: `bytes=${whole + 10}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${whole}`);
  });
});

describe('from the full ladder', () => {
  it('the MP4 is the top rendition (720p of hd.mp4) plus the audio, the M4A the audio alone', async () => {
    const full = await startTestServer();
    try {
      const client = full.sdk();
      const v = await uploadVideo(full, account, media('hd.mp4'));
      const video = await waitFor(() => client.stream.get(v, { account_id: account }), (x) => x.status?.state === 'ready', 60_000, 100);
      await client.stream.downloads.create(v, { account_id: account });
      await fetch(full.streamUrl(account, `/${v}/downloads/audio`), { method: 'POST', headers: { authorization: 'Bearer t' } });
      await waitFor(() => client.stream.downloads.get(v, { account_id: account }), (d) => d.default?.status === 'ready' && d.audio?.status === 'ready', 30_000, 50);
      const { probe } = await probeBody(await fetch(`${full.url}/${v}/downloads/default.mp4`), 'hd.mp4');
      const streams = probe.streams.map((s) => [s.codec_name, s.width ?? null, s.height ?? null]);
      expect(streams).toEqual([['h264', 1280, 720], ['aac', null, null]]);
      expect(Number(probe.format.duration)).toBeCloseTo(video.duration!, 1);
      const audio = await probeBody(await fetch(`${full.url}/${v}/downloads/audio.m4a`), 'hd.m4a');
      expect(audio.probe.streams.map((s) => s.codec_name)).toEqual(['aac']);
    } finally {
      await full.close();
    }
  });
});

describe('durability', () => {
  it('a download and its state survive a restart of Ministream', async () => {
    const dataDir = join(scratch, 'data');
    const first = await startTestServer({ encoding: 'fast', inMemory: false, dataDir });
    let v: string;
    try {
      v = await uploadVideo(first, account, media('small.mp4'));
      const client = first.sdk();
      await waitFor(() => client.stream.get(v, { account_id: account }), (x) => x.status?.state === 'ready', 60_000, 50);
      await client.stream.downloads.create(v, { account_id: account });
      await waitFor(() => client.stream.downloads.get(v, { account_id: account }), (d) => d.default?.status === 'ready', 30_000, 50);
    } finally {
      await first.close();
    }
    const second = await startTestServer({ encoding: 'fast', inMemory: false, dataDir });
    try {
      const d = await second.sdk().stream.downloads.get(v, { account_id: account });
      expect(d.default).toEqual({ status: 'ready', percentComplete: 100, url: `${second.url}/${v}/downloads/default.mp4` });
      const res = await fetch(d.default!.url!);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    } finally {
      await second.close();
    }
  });
});

describe('the audio download', () => {
  it('is created by POST .../downloads/audio and holds the AAC track alone', async () => {
    const res = await api(`/${uid}/downloads/audio`, { method: 'POST' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expectSchema('POST', DOWNLOADS_PATH, '200', body);
    // Every download type of the video is listed, as Cloudflare's answer does.
    expect(Object.keys(body.result).sort()).toEqual(['audio', 'default']);
    expect(body.result.audio.url).toBe(`${server.url}/${uid}/downloads/audio.m4a`);

    await downloadsReady(uid, ['default', 'audio']);
    const file = await fetch(`${body.result.audio.url}?filename=song`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/mp4');
    expect(file.headers.get('content-disposition')).toBe('attachment; filename="song.m4a"');
    const { probe } = await probeBody(file, 'audio.m4a');
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['aac']);
    expect(Number(probe.format.duration)).toBeCloseTo(duration, 1);
  });

  it('is refused for a video without an audio track', async () => {
    const silent = await uploadVideo(server, account, media('silent.mp4'));
    await ready(silent);
    const res = await api(`/${silent}/downloads/audio`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toMatch(/no audio track/);
    // Its MP4 is video only.
    await cf.stream.downloads.create(silent, { account_id: account });
    await downloadsReady(silent, ['default']);
    const { probe } = await probeBody(await fetch(`${server.url}/${silent}/downloads/default.mp4`), 'silent.mp4');
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['h264']);
  });
});

describe('removing downloads', () => {
  it('DELETE .../downloads removes the default MP4 (file too); .../downloads/audio the audio', async () => {
    const v = await uploadVideo(server, account, media('small.mp4'));
    await ready(v);
    await cf.stream.downloads.create(v, { account_id: account });
    await api(`/${v}/downloads/audio`, { method: 'POST' });
    await downloadsReady(v, ['default', 'audio']);

    const raw = await cf.stream.downloads.delete(v, { account_id: account }).asResponse();
    const body = await raw.json();
    expectSchema('DELETE', DOWNLOADS_PATH, '200', body);
    expect(body.result).toBe('ok');
    expect(Object.keys(await cf.stream.downloads.get(v, { account_id: account }))).toEqual(['audio']);
    expect((await fetch(`${server.url}/${v}/downloads/default.mp4`)).status).toBe(404);
    expect((await fetch(`${server.url}/${v}/downloads/audio.m4a`)).status).toBe(200);

    expect((await api(`/${v}/downloads/audio`, { method: 'DELETE' })).status).toBe(200);
    expect(await cf.stream.downloads.get(v, { account_id: account })).toEqual({});
    expect((await fetch(`${server.url}/${v}/downloads/audio.m4a`)).status).toBe(404);

    // Made again after a delete, it is made anew.
    await cf.stream.downloads.create(v, { account_id: account });
    await downloadsReady(v, ['default']);
    expect((await fetch(`${server.url}/${v}/downloads/default.mp4`)).status).toBe(200);
  });

  it('deleting the video removes its downloads', async () => {
    const v = await uploadVideo(server, account, media('small.mp4'));
    await ready(v);
    await cf.stream.downloads.create(v, { account_id: account });
    await downloadsReady(v, ['default']);
    await cf.stream.delete(v, { account_id: account });
    expect((await fetch(`${server.url}/${v}/downloads/default.mp4`)).status).toBe(404);
    await expect(cf.stream.downloads.get(v, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });
});

describe('access', () => {
  it('a video with requireSignedURLs: refused by uid, served to a token with downloadable: true only', async () => {
    const v = await uploadVideo(server, account, media('small.mp4'));
    await ready(v);
    await cf.stream.edit(v, { account_id: account, requireSignedURLs: true });
    const created = await cf.stream.downloads.create(v, { account_id: account });
    await downloadsReady(v, ['default']);

    const byUid = await fetch(created.default!.url!);
    expect(byUid.status).toBe(401);
    expect((await byUid.json()).success).toBe(false);

    const { token: downloadable } = await cf.stream.token.create(v, { account_id: account, downloadable: true });
    const ok = await fetch(`${server.url}/${downloadable}/downloads/default.mp4?filename=private`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="private.mp4"');
    const { probe } = await probeBody(ok, 'private.mp4');
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);

    const { token: viewOnly } = await cf.stream.token.create(v, { account_id: account });
    const refused = await fetch(`${server.url}/${viewOnly}/downloads/default.mp4`);
    expect(refused.status).toBe(403);
    expect((await refused.json()).errors[0].message).toMatch(/download/);
    // The view-only token still plays the stream.
    expect((await fetch(`${server.url}/${viewOnly}/manifest/video.m3u8`)).status).toBe(200);
  });

  it('a public video\'s download needs no token, and a token without downloadable works too', async () => {
    const { token } = await cf.stream.token.create(uid, { account_id: account });
    expect((await fetch(`${server.url}/${token}/downloads/default.mp4`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('refusals', () => {
  it('a video that is not ready: no download is created (4xx), its URL answers 404', async () => {
    const pending = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 });
    const res = await api(`/${pending.uid}/downloads`, { method: 'POST' });
    expect(res.status).toBe(400);
    const body = await res.json();
    expectSchema('POST', DOWNLOADS_PATH, '4XX', body);
    expect(body.errors[0].message).toMatch(/not ready/);
    await expect(cf.stream.downloads.create(pending.uid!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    expect((await fetch(`${server.url}/${pending.uid}/downloads/default.mp4`)).status).toBe(404);
  });

  it('a ready video whose download was never created: its URL answers 404', async () => {
    const v = await uploadVideo(server, account, media('small.mp4'));
    await ready(v);
    const res = await fetch(`${server.url}/${v}/downloads/default.mp4`);
    expect(res.status).toBe(404);
    expect((await res.json()).errors[0].message).toMatch(/download/);
    expect(await cf.stream.downloads.get(v, { account_id: account })).toEqual({});
  });

  it('unknown videos, other accounts\' videos, unknown types and file names', async () => {
    const unknown = '0123456789abcdef0123456789abcdef';
    await expect(cf.stream.downloads.create(unknown, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    await expect(cf.stream.downloads.get(uid, { account_id: freshAccount() })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    expect((await api(`/${uid}/downloads/video`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${server.url}/${uid}/downloads/video.mp4`)).status).toBe(404);
    expect((await fetch(`${server.url}/${unknown}/downloads/default.mp4`)).status).toBe(404);
  });
});
