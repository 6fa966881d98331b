// Clipping: POST /stream/clip makes a new video from a time range of a ready one, which is cut,
// encoded and delivered like any upload. Durations are checked on the result with ffprobe.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare, { toFile } from 'cloudflare';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const tools = resolveMediaTools();
const scratch = mkdtempSync(join(tmpdir(), 'ministream-clip-test-'));
let server: TestServer;
let cf: Cloudflare;
const account = freshAccount();
let source: string;
let sourceDuration: number;

/** One frame, as 64x36 grey pixels. */
function frameAt(file: string, seconds: number): Buffer {
  return execFileSync(tools.ffmpeg.path, ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-vf', 'scale=64:36,format=gray', '-f', 'rawvideo', '-']);
}
const meanDifference = (a: Buffer, b: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;

function settled(uid: string) {
  return waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready' || v.status?.state === 'error', 60_000, 50);
}

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast' });
  cf = server.sdk();
  source = await uploadVideo(server, account, media('hd.mp4'));
  sourceDuration = (await settled(source)).duration!;
  // The source is due for deletion; its clips must not be.
  await cf.stream.edit(source, { account_id: account, scheduledDeletion: new Date(Date.now() + 40 * 86_400_000).toISOString() });
});
afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('POST /stream/clip', () => {
  it('makes a new video of 0.5-1.5 s of hd.mp4 that becomes ready, 1 s long, with clippedFrom', async () => {
    const raw = await cf.stream.clip
      .create({ account_id: account, clippedFromVideoUID: source, startTimeSeconds: 0.5, endTimeSeconds: 1.5, meta: { name: 'the clip' }, creator: 'editor-1', requireSignedURLs: false })
      .asResponse();
    expect(raw.status).toBe(200);
    const body = await raw.json();
    // SDK 7.3 types the answer as a Video (the 2024 schema's clip result has a bare status string).
    expectSchema('GET', '/accounts/{account_id}/stream/{identifier}', '200', body);
    const clip = body.result;
    expect(clip.uid).not.toBe(source);
    expect(clip).toMatchObject({
      clippedFrom: source,
      clippedFromVideoUID: source,
      startTimeSeconds: 0.5,
      endTimeSeconds: 1.5,
      meta: { name: 'the clip' },
      creator: 'editor-1',
      scheduledDeletion: null,
      status: { state: 'queued' },
    });

    const done = await settled(clip.uid);
    expect(done.status?.state).toBe('ready');
    expect(done.duration).toBeGreaterThan(0.9);
    expect(done.duration).toBeLessThan(1.1);
    expect(done.clippedFrom).toBe(source);
    expect(done.scheduledDeletion).toBeNull();
    expect(done.input).toEqual({ width: 1280, height: 720 });
    expect((await cf.stream.get(source, { account_id: account })).scheduledDeletion).not.toBeNull();

    // Its stream plays like any other: the MP4 download of the clip holds 1 s of H.264 + AAC.
    await cf.stream.downloads.create(clip.uid, { account_id: account });
    await waitFor(() => cf.stream.downloads.get(clip.uid, { account_id: account }), (d) => d.default?.status === 'ready', 30_000, 50);
    const res = await fetch(`${server.url}/${clip.uid}/downloads/default.mp4`);
    expect(res.status).toBe(200);
    const file = join(scratch, 'clip.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const probe = await ffprobe(tools.ffprobe.path, file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Number(probe.format.duration)).toBeGreaterThan(0.9);
    expect(Number(probe.format.duration)).toBeLessThan(1.15);
    // It starts where it was cut: its first frame is the source's frame at 0.5 s, not at 0 s.
    const first = frameAt(file, 0);
    expect(meanDifference(first, frameAt(media('hd.mp4'), 0.5))).toBeLessThan(1);
    expect(meanDifference(first, frameAt(media('hd.mp4'), 0))).toBeGreaterThan(2);
    expect((await fetch(`${server.url}/${clip.uid}/manifest/video.m3u8`)).status).toBe(200);

    // The list shows where it came from; the source is untouched.
    const list = await cf.stream.list({ account_id: account });
    expect(list.result.find((v) => v.uid === clip.uid)?.clippedFrom).toBe(source);
    expect(list.result.find((v) => v.uid === source)?.clippedFrom).toBeNull();
  });

  it('takes the options of the body (name, requireSignedURLs, allowedOrigins, thumbnailTimestampPct)', async () => {
    const clip = await cf.stream.clip.create({
      account_id: account, clippedFromVideoUID: source, startTimeSeconds: 0, endTimeSeconds: 1,
      name: 'named', requireSignedURLs: true, allowedOrigins: ['example.com'], thumbnailTimestampPct: 0.5,
    });
    expect(clip).toMatchObject({ meta: { name: 'named' }, requireSignedURLs: true, allowedOrigins: ['example.com'], thumbnailTimestampPct: 0.5 });
    const done = await settled(clip.uid!);
    expect(done.status?.state).toBe('ready');
    // A private clip is private: its bare uid is refused.
    expect((await fetch(`${server.url}/${clip.uid}/manifest/video.m3u8`)).status).toBe(401);
  });

  it('takes a watermark profile of the account, and refuses an unknown one', async () => {
    const params = { account_id: account, file: await toFile(readFileSync(media('red.png')), 'logo.png', { type: 'image/png' }) };
    const profile = await cf.stream.watermarks.create(params as Parameters<Cloudflare['stream']['watermarks']['create']>[0]);
    const clip = await cf.stream.clip.create({ account_id: account, clippedFromVideoUID: source, startTimeSeconds: 0, endTimeSeconds: 1, watermark: { uid: profile.uid! } });
    expect(clip.watermark).toMatchObject({ uid: profile.uid });
    expect((await settled(clip.uid!)).status?.state).toBe('ready');
    await expect(cf.stream.clip.create({ account_id: account, clippedFromVideoUID: source, startTimeSeconds: 0, endTimeSeconds: 1, watermark: { uid: 'ffffffffffffffffffffffffffffffff' } }))
      .rejects.toBeInstanceOf(Cloudflare.BadRequestError);
  });

  it('a clip of the whole source is as long as the source', async () => {
    const clip = await cf.stream.clip.create({ account_id: account, clippedFromVideoUID: source, startTimeSeconds: 0, endTimeSeconds: sourceDuration });
    const done = await settled(clip.uid!);
    expect(done.status?.state).toBe('ready');
    expect(done.duration).toBeCloseTo(sourceDuration, 1);
  });
});

describe('refusals', () => {
  const clipRequest = (body: Record<string, unknown>) =>
    fetch(server.streamUrl(account, '/clip'), {
      method: 'POST',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  async function refused(body: Record<string, unknown>, status: number, message: RegExp) {
    const res = await clipRequest(body);
    const json = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(status);
    expectSchema('POST', '/accounts/{account_id}/stream/clip', '4XX', json);
    expect(json.errors[0].message).toMatch(message);
  }

  it('an unknown source, or another account\'s', async () => {
    await refused({ clippedFromVideoUID: '0123456789abcdef0123456789abcdef', startTimeSeconds: 0, endTimeSeconds: 1 }, 404, /clippedFromVideoUID/);
    const other = server.sdk();
    await expect(other.stream.clip.create({ account_id: freshAccount(), clippedFromVideoUID: source, startTimeSeconds: 0, endTimeSeconds: 1 }))
      .rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    await refused({ clippedFromVideoUID: 'not-a-uid', startTimeSeconds: 0, endTimeSeconds: 1 }, 400, /clippedFromVideoUID/);
  });

  it('a range outside the source: end before start, end past the end, a negative start', async () => {
    await refused({ clippedFromVideoUID: source, startTimeSeconds: 2, endTimeSeconds: 1 }, 400, /clip outside the source/);
    await refused({ clippedFromVideoUID: source, startTimeSeconds: 1, endTimeSeconds: 1 }, 400, /clip outside the source/);
    await refused({ clippedFromVideoUID: source, startTimeSeconds: 1, endTimeSeconds: sourceDuration + 1 }, 400, /clip outside the source.*duration/);
    await refused({ clippedFromVideoUID: source, startTimeSeconds: -1, endTimeSeconds: 1 }, 400, /clip outside the source/);
    await expect(cf.stream.clip.create({ account_id: account, clippedFromVideoUID: source, startTimeSeconds: 2, endTimeSeconds: 1 }))
      .rejects.toBeInstanceOf(Cloudflare.BadRequestError);
  });

  it('a clip shorter than 0.1 s, missing fields, wrong types', async () => {
    await refused({ clippedFromVideoUID: source, startTimeSeconds: 1, endTimeSeconds: 1.05 }, 400, /0\.1/);
    await refused({ clippedFromVideoUID: source, startTimeSeconds: 1 }, 400, /endTimeSeconds/);
    await refused({ clippedFromVideoUID: source, startTimeSeconds: '0', endTimeSeconds: 1 }, 400, /startTimeSeconds/);
    await refused({ clippedFromVideoUID: source, startTimeSeconds: 0, endTimeSeconds: 1, url: 'https://example.com/a.mp4' }, 400, /not supported/);
  });

  it('a source that is not ready yet', async () => {
    const pending = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 });
    await refused({ clippedFromVideoUID: pending.uid, startTimeSeconds: 0, endTimeSeconds: 1 }, 400, /not ready/);
  });

  it('no video is created by a refused clip', async () => {
    const before = (await cf.stream.list({ account_id: account })).result.length;
    await clipRequest({ clippedFromVideoUID: source, startTimeSeconds: 2, endTimeSeconds: 1 });
    expect((await cf.stream.list({ account_id: account })).result.length).toBe(before);
  });
});
