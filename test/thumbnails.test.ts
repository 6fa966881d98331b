// Thumbnails: GET /<uid>/thumbnails/thumbnail.<ext> over HTTP with real ffmpeg, checked with ffprobe;
// the time syntax; and the on-disk cache of ThumbnailService.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTime } from '../src/routes/thumbnails.js';
import { newUid } from '../src/store/clock.js';
import { MediaStore } from '../src/store/media-store.js';
import type { VideoRecord } from '../src/store/video-types.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { ThumbnailService } from '../src/transcode/thumbnails.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';

const tools = resolveMediaTools();
let server: TestServer;
let account: string;
let uid: string;
let scratch: string;

beforeAll(async () => {
  server = await startTestServer();
  account = freshAccount();
  uid = await uploadVideo(server, account, media('small.mp4')); // 2 s, 320x240
  scratch = mkdtempSync(join(tmpdir(), 'ministream-thumbs-'));
});

afterAll(async () => {
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Fetched {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

async function get(path: string): Promise<Fetched> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

let written = 0;
/** Writes an image to a temporary file and describes its video stream with ffprobe. */
async function probe(bytes: Buffer, ext: string) {
  const file = join(scratch, `${(written += 1)}.${ext}`);
  writeFileSync(file, bytes);
  const stream = (await ffprobe(tools.ffprobe.path, file)).streams.find((s) => s.codec_type === 'video');
  return { codec: stream?.codec_name, width: stream?.width, height: stream?.height, file };
}

/** Decodes every frame of a file and counts them (a GIF's stream header has no frame count). */
function countFrames(file: string): number {
  const out = execFileSync(tools.ffprobe.path, ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return Number(out.trim());
}

async function thumbnail(query = '', ext = 'jpg'): Promise<Fetched> {
  const res = await get(`/${uid}/thumbnails/thumbnail.${ext}${query ? `?${query}` : ''}`);
  expect(res.status, res.bytes.toString().slice(0, 300)).toBe(200);
  return res;
}

describe('parseTime', () => {
  it.each([
    ['5s', 5], ['1m', 60], ['5m2s', 302], ['1h', 3600], ['1h2m3s', 3723], ['2.5', 2.5], ['0s', 0], ['1.5s', 1.5], ['0', 0],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseTime(text)).toBe(seconds);
  });

  it.each(['', 'abc', '5x', 's', '1s5m', '-1', '1.2.3', '5 s'])('%j is not a time', (text) => {
    expect(parseTime(text)).toBeUndefined();
  });
});

describe('thumbnail images over HTTP', () => {
  it.each([
    ['jpg', 'mjpeg', 'image/jpeg'],
    ['png', 'png', 'image/png'],
    ['webp', 'webp', 'image/webp'],
    ['gif', 'gif', 'image/gif'],
  ])('%s: %s, %s, cacheable, 640x480 by default', async (ext, codec, type) => {
    const res = await thumbnail(ext === 'gif' ? 'duration=1s' : '', ext);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await probe(res.bytes, ext)).toMatchObject({ codec, width: 640, height: 480 });
  });

  it.each([
    ['crop', 100, 100],
    ['clip', 100, 75], // 4:3 inside a square: the height comes out smaller
    ['scale', 100, 100],
    ['fill', 100, 100],
  ])('width=100&height=100&fit=%s is %dx%d', async (fit, width, height) => {
    const res = await thumbnail(`width=100&height=100&fit=${fit}`);
    expect(await probe(res.bytes, 'jpg')).toMatchObject({ codec: 'mjpeg', width, height });
  });

  it('keeps the aspect when only one side is given, and crops by default', async () => {
    expect(await probe((await thumbnail('width=200')).bytes, 'jpg')).toMatchObject({ width: 200, height: 150 });
    expect(await probe((await thumbnail('height=60')).bytes, 'png')).toMatchObject({ width: 80, height: 60 });
    expect(await probe((await thumbnail('width=50&height=120')).bytes, 'jpg')).toMatchObject({ width: 50, height: 120 });
  });

  it('animates a GIF for duration x fps frames', async () => {
    const res = await thumbnail('duration=1s&fps=8&width=80', 'gif');
    const image = await probe(res.bytes, 'gif');
    expect(image).toMatchObject({ codec: 'gif', width: 80, height: 60 });
    expect(countFrames(image.file)).toBeGreaterThanOrEqual(7);
    expect(countFrames(image.file)).toBeLessThanOrEqual(9);
  });

  it('takes the frame at time=, and clamps a time past the end to the last frame', async () => {
    const first = await thumbnail('width=64&time=0s');
    const later = await thumbnail('width=64&time=1.5');
    expect(later.bytes.equals(first.bytes)).toBe(false);
    expect((await thumbnail('width=64&time=1h')).bytes.length).toBeGreaterThan(0);
  });

  it('defaults to the frame at thumbnailTimestampPct', async () => {
    const own = await uploadVideo(server, account, media('small.mp4'));
    const at = async () => (await get(`/${own}/thumbnails/thumbnail.jpg?width=64`)).bytes;
    const atStart = await at();
    expect((await get(`/${own}/thumbnails/thumbnail.jpg?width=64&time=0s`)).bytes.equals(atStart)).toBe(true);
    await server.sdk().stream.edit(own, { account_id: account, thumbnailTimestampPct: 1 });
    const atEnd = await at();
    expect(atEnd.length).toBeGreaterThan(0);
    expect(atEnd.equals(atStart)).toBe(false);
  });

  it('serves a repeated request from the cache: same bytes, one file', async () => {
    const folder = join(server.dataDir, 'media', uid, 'thumbnails');
    const query = 'width=90&time=0.5';
    const [a, b] = await Promise.all([thumbnail(query, 'png'), thumbnail(query, 'png')]);
    const before = readdirSync(folder).length;
    const c = await thumbnail(query, 'png');
    expect(b.bytes.equals(a.bytes) && c.bytes.equals(a.bytes)).toBe(true);
    expect(readdirSync(folder).length).toBe(before);
    expect(readdirSync(folder).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

describe('refused thumbnail requests', () => {
  it.each(['width=0', 'width=abc', 'height=5000', 'fit=zoom', 'fps=100', 'time=abc', 'duration=20s', 'duration=0s'])(
    '%s is a 400 in the failure envelope',
    async (query) => {
      const res = await get(`/${uid}/thumbnails/thumbnail.gif?${query}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.bytes.toString())).toMatchObject({ success: false, errors: [{ code: 10005 }] });
    },
  );

  it.each([
    ['an unknown uid', () => `/${newUid()}/thumbnails/thumbnail.jpg`],
    ['an unknown extension', () => `/${uid}/thumbnails/thumbnail.bmp`],
    ['a traversal in the uid', () => '/..%2F..%2Fetc/thumbnails/thumbnail.jpg'],
    ['a traversal in the file name', () => `/${uid}/thumbnails/..%2F..%2Fministream.sqlite`],
    ['a traversal after the extension', () => `/${uid}/thumbnails/thumbnail.jpg%2F..%2F..%2Foriginal`],
  ])('%s is a 404', async (_what, path) => {
    expect((await get(path())).status).toBe(404);
  });
});

describe('ThumbnailService', () => {
  let store: MediaStore;
  let video: VideoRecord;

  beforeAll(async () => {
    store = new MediaStore(join(scratch, 'data'));
    await store.init();
    const id = newUid();
    mkdirSync(store.videoDir(id), { recursive: true });
    copyFileSync(media('small.mp4'), join(store.videoDir(id), 'original'));
    video = { uid: id, sourceFile: 'original', duration: 2, thumbnailTimestampPct: 0 } as VideoRecord;
  });

  const files = () => readdirSync(join(store.videoDir(video.uid), 'thumbnails')).sort();

  it('makes concurrent identical requests once, then serves them from disk', async () => {
    // An ffmpeg that counts its runs.
    const counter = join(scratch, 'runs');
    const wrapper = join(scratch, 'counting-ffmpeg');
    writeFileSync(wrapper, `#!/bin/sh\necho run >> '${counter}'\nexec '${tools.ffmpeg.path}' "$@"\n`, { mode: 0o755 });
    const runs = () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length;
    const service = new ThumbnailService(wrapper, store, 3);
    const req = { format: 'jpg' as const, width: 30, fit: 'crop' as const };
    const paths = await Promise.all([service.get(video, req), service.get(video, req), service.get(video, req)]);
    expect(new Set(paths).size).toBe(1);
    expect(runs()).toBe(1);
    expect(await service.get(video, { ...req, fit: 'fill' })).toBe(paths[0]); // fit needs both sides: same image
    expect(runs()).toBe(1);
    expect(files()).toHaveLength(1);
  });

  it('keeps at most maxPerVideo images, dropping the least recently used', async () => {
    const service = new ThumbnailService(tools.ffmpeg.path, store, 3);
    const req = (width: number) => ({ format: 'png' as const, width, fit: 'crop' as const });
    const first = await service.get(video, req(40));
    await service.get(video, req(41));
    await service.get(video, req(42));
    await service.get(video, req(40)); // a hit: now the most recently used
    for (const width of [43, 44]) await service.get(video, req(width));
    expect(files()).toHaveLength(3);
    expect(files()).toContain(first.split('/').pop());
  });

  it('finds the last frame when the audio outlasts the video', async () => {
    // 1 s of video in a 3 s file: a seek to the clamped 2.9 s finds no frame.
    const id = newUid();
    mkdirSync(store.videoDir(id), { recursive: true });
    execFileSync(tools.ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=25', '-f', 'lavfi',
      '-i', 'sine=duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mp4',
      join(store.videoDir(id), 'original')]);
    const longAudio = { uid: id, sourceFile: 'original', duration: 3, thumbnailTimestampPct: 1 } as VideoRecord;
    const service = new ThumbnailService(tools.ffmpeg.path, store);
    const still = await service.get(longAudio, { format: 'jpg', fit: 'crop' });
    const gif = await service.get(longAudio, { format: 'gif', fit: 'crop', width: 40 });
    expect((await ffprobe(tools.ffprobe.path, still)).streams[0]).toMatchObject({ codec_name: 'mjpeg', width: 640, height: 480 });
    expect((await ffprobe(tools.ffprobe.path, gif)).streams[0]).toMatchObject({ codec_name: 'gif', width: 40, height: 30 });
  });
});
