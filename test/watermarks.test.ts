// Watermark profiles, and their real effect: the image burnt into every rendition at its position.
import { readFileSync, statSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare, { toFile } from 'cloudflare';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { expectSchema } from './helpers/openapi.js';
import { startMediaOrigin, type MediaOrigin } from './helpers/origin.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { fileBytes, runTus } from './helpers/tus.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let cf: Cloudflare;
let origin: MediaOrigin;
let originUrl: string;
const scratch = mkdtempSync(join(tmpdir(), 'ministream-wm-'));

beforeAll(async () => {
  server = await startTestServer();
  cf = server.sdk();
  origin = await startMediaOrigin({ '/logo.png': 'red.png', '/notes.txt': 'notes.txt' });
  originUrl = origin.url;
});
afterAll(async () => {
  await server?.close();
  await origin?.close();
  rmSync(scratch, { recursive: true, force: true });
});

type WatermarkCreate = Parameters<Cloudflare['stream']['watermarks']['create']>[0] & { file?: unknown };

async function createFromFile(account: string, extra: Record<string, unknown> = {}) {
  const params: WatermarkCreate = { account_id: account, file: await toFile(readFileSync(media('red.png')), 'logo.png', { type: 'image/png' }), ...extra };
  return cf.stream.watermarks.create(params);
}

/** RGB of one pixel of the first frame of the top rendition, decoded by ffmpeg. */
function pixel(uid: string, x: number, y: number, width: number, height: number): [number, number, number] {
  const dir = join(server.dataDir, 'media', uid, 'stream');
  const joined = join(scratch, `${uid}.mp4`);
  writeFileSync(joined, Buffer.concat([readFileSync(join(dir, 'init-0.m4s')), readFileSync(join(dir, 'chunk-0-00001.m4s'))]));
  const raw = execFileSync(resolveMediaTools().ffmpeg.path, ['-v', 'error', '-i', joined, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
  expect(raw.length).toBe(width * height * 3);
  const at = (y * width + x) * 3;
  return [raw[at]!, raw[at + 1]!, raw[at + 2]!];
}

describe('watermark profiles', () => {
  it('creates from a multipart file with Cloudflare\'s defaults, lists, gets and deletes', async () => {
    const account = freshAccount();
    const created = await createFromFile(account, { name: 'logo' });
    expect(created).toMatchObject({ name: 'logo', width: 64, height: 64, opacity: 1, padding: 0.05, scale: 0.15, position: 'upperRight', downloadedFrom: null });
    expect(created.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(created.size).toBe(statSync(media('red.png')).size);
    const listRaw = await cf.stream.watermarks.list({ account_id: account }).asResponse();
    const listBody = await listRaw.json();
    expectSchema('GET', '/accounts/{account_id}/stream/watermarks', '200', listBody);
    expect(listBody.result.map((w: { uid: string }) => w.uid)).toEqual([created.uid]);
    const getRaw = await cf.stream.watermarks.get(created.uid!, { account_id: account }).asResponse();
    expectSchema('GET', '/accounts/{account_id}/stream/watermarks/{identifier}', '200', await getRaw.json());
    expect(await cf.stream.watermarks.delete(created.uid!, { account_id: account })).toBe('');
    await expect(cf.stream.watermarks.get(created.uid!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it('creates from a URL, as SDK 7.3 sends it (JSON)', async () => {
    const account = freshAccount();
    const w = await cf.stream.watermarks.create({ account_id: account, url: `${originUrl}/logo.png`, opacity: 0.5, position: 'center', scale: 0.1, padding: 0.1 });
    expect(w).toMatchObject({ downloadedFrom: `${originUrl}/logo.png`, opacity: 0.5, position: 'center', width: 64, height: 64 });
  });

  it('refuses a file that is not an image, a bad position and an out-of-range opacity', async () => {
    const account = freshAccount();
    const notImage = await cf.stream.watermarks
      .create({ account_id: account, file: await toFile(readFileSync(media('notes.txt')), 'x.png') } as WatermarkCreate)
      .catch((e: unknown) => e);
    expect(notImage).toBeInstanceOf(Cloudflare.BadRequestError);
    await expect(cf.stream.watermarks.create({ account_id: account, url: `${originUrl}/notes.txt` })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    await expect(createFromFile(account, { position: 'top' })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    await expect(createFromFile(account, { opacity: 2 })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    await expect(cf.stream.watermarks.create({ account_id: account, url: `${originUrl}/missing.png` })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    expect((await cf.stream.watermarks.list({ account_id: account })).result).toEqual([]);
  });
});

describe('a video uploaded with a watermark', () => {
  it('shows the profile and has the image burnt in at its position, in the top rendition', async () => {
    const account = freshAccount();
    const wm = await createFromFile(account, { position: 'upperLeft', scale: 0.25, padding: 0.05 });
    const { mediaId } = await runTus(fileBytes(media('blue.mp4')), { endpoint: server.streamUrl(account), metadata: { name: 'blue', watermark: wm.uid! } });
    const video = await waitFor(() => cf.stream.get(mediaId!, { account_id: account }), (v) => v.status?.state === 'ready' || v.status?.state === 'error', 60_000, 100);
    expect(video.status?.state).toBe('ready');
    expect(video.watermark).toEqual(wm);
    // 320x240 video: the image is 80 px wide (0.25), 16 px from the left and 12 px from the top.
    const [r, g, b] = pixel(mediaId!, 56, 52, 320, 240);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(80);
    expect(b).toBeLessThan(80);
    const [r2, , b2] = pixel(mediaId!, 280, 200, 320, 240);
    expect(b2).toBeGreaterThan(180);
    expect(r2).toBeLessThan(80);
  });

  it('takes watermark: {uid} on direct uploads and refuses an unknown uid', async () => {
    const account = freshAccount();
    const wm = await createFromFile(account);
    const du = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60, watermark: { uid: wm.uid } });
    expect(du.watermark).toMatchObject({ uid: wm.uid });
    expect((await cf.stream.get(du.uid!, { account_id: account })).watermark).toMatchObject({ uid: wm.uid, position: 'upperRight' });
    await expect(cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60, watermark: { uid: 'f'.repeat(32) } })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
  });
});
