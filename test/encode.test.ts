// Encoding and delivery: an upload becomes the HLS + DASH ladder that players fetch, with the real
// lifecycle and Cloudflare's error states. Renditions are checked with ffprobe.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Cloudflare from 'cloudflare';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { parseMaster, parseMedia } from './helpers/hls.js';
import { expectSchema } from './helpers/openapi.js';
import { runCli } from './helpers/process.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { basicUpload, uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const tools = resolveMediaTools();
let server: TestServer;
let cf: Cloudflare;
const scratch = mkdtempSync(join(tmpdir(), 'ministream-encode-test-'));

beforeAll(async () => {
  server = await startTestServer();
  cf = server.sdk();
});
afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function settled(s: TestServer, account: string, uid: string, timeoutMs = 60_000) {
  const client = s === server ? cf : s.sdk();
  return waitFor(() => client.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready' || v.status?.state === 'error', timeoutMs, 100);
}

async function fetchOk(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  expect(res.status, url).toBe(200);
  return res;
}

/** Fetches a variant's init and every segment, joins them, and asks ffprobe what they hold. */
async function probeVariant(base: string, playlistUri: string) {
  const playlist = parseMedia(await (await fetchOk(`${base}/${playlistUri}`)).text());
  expect(playlist.ended).toBe(true);
  const parts: Buffer[] = [];
  if (playlist.init) parts.push(Buffer.from(await (await fetchOk(`${base}/${playlist.init}`)).arrayBuffer()));
  for (const seg of playlist.segments) {
    const res = await fetchOk(`${base}/${seg.uri}`);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    parts.push(Buffer.from(await res.arrayBuffer()));
  }
  const file = join(scratch, `${playlistUri}-${Date.now()}.mp4`);
  writeFileSync(file, Buffer.concat(parts));
  const probe = await ffprobe(tools.ffprobe.path, file);
  return { playlist, probe };
}

async function encodeOf(file: string) {
  const account = freshAccount();
  const uid = await uploadVideo(server, account, media(file));
  const video = await settled(server, account, uid);
  return { account, uid, video, base: `${server.url}/${uid}/manifest` };
}

describe('the ladder', () => {
  let hd: Awaited<ReturnType<typeof encodeOf>>;
  beforeAll(async () => {
    hd = await encodeOf('hd.mp4');
  });

  it('goes queued -> inprogress -> ready with readyToStream and readyToStreamAt', async () => {
    expect(hd.video.status).toEqual({ state: 'ready', pctComplete: '100.000000', errorReasonCode: '', errorReasonText: '' });
    expect(hd.video.readyToStream).toBe(true);
    expect(Date.parse(hd.video.readyToStreamAt!)).toBeGreaterThanOrEqual(Date.parse(hd.video.created!));
    expect(hd.video.duration).toBeCloseTo(3, 0);
    expect(hd.video.input).toEqual({ width: 1280, height: 720 });
    const raw = await cf.stream.get(hd.uid, { account_id: hd.account }).asResponse();
    expectSchema('GET', '/accounts/{account_id}/stream/{identifier}', '200', await raw.json());
  });

  it('serves an HLS master with every rung at or below the input, and each rung decodes at its size', async () => {
    const res = await fetchOk(`${hd.base}/video.m3u8`);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const master = parseMaster(await res.text());
    expect(master.variants.map((v) => v.resolution)).toEqual(['1280x720', '854x480', '640x360', '426x240']);
    expect(master.variants.every((v) => v.bandwidth > 0 && v.codecs?.includes('avc1') && v.codecs.includes('mp4a'))).toBe(true);
    for (const variant of master.variants) {
      const { playlist, probe } = await probeVariant(hd.base, variant.uri);
      const v = probe.streams.find((s) => s.codec_type === 'video')!;
      expect(v.codec_name).toBe('h264');
      expect(`${v.width}x${v.height}`).toBe(variant.resolution);
      expect(Number(probe.format.duration)).toBeCloseTo(3, 0);
      // 4-second segments: a 3 s video is one segment.
      expect(playlist.segments.every((s) => s.duration <= 4.1)).toBe(true);
    }
    expect(master.audio).toHaveLength(1);
    const { probe } = await probeVariant(hd.base, master.audio[0]!);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['aac']);
  });

  it('serves the DASH manifest over the same segments', async () => {
    const res = await fetchOk(`${hd.base}/video.mpd`);
    expect(res.headers.get('content-type')).toBe('application/dash+xml');
    const mpd = await res.text();
    expect(mpd.match(/<Representation /g)).toHaveLength(5);
    for (const id of [0, 1, 2, 3, 4]) {
      await fetchOk(`${hd.base}/init-${id}.m4s`);
      await fetchOk(`${hd.base}/chunk-${id}-00001.m4s`);
    }
  });

  it('keeps only the rendition nearest clientBandwidthHint (Mbps), in HLS and DASH; ignores a bad hint', async () => {
    const full = parseMaster(await (await fetchOk(`${hd.base}/video.m3u8`)).text()).variants;
    const hinted = (mbps: string) => fetchOk(`${hd.base}/video.m3u8?clientBandwidthHint=${mbps}`).then(async (r) => parseMaster(await r.text()));
    for (const mbps of [0.1, 1, 2.5, 100]) {
      const { variants, audio } = await hinted(String(mbps));
      const nearest = [...full].sort((a, b) => Math.abs(a.bandwidth - mbps * 1e6) - Math.abs(b.bandwidth - mbps * 1e6))[0]!;
      expect(variants).toEqual([nearest]);
      expect(audio).toHaveLength(1);
    }
    expect((await hinted('1')).variants[0]!.resolution).not.toBe((await hinted('100')).variants[0]!.resolution);
    expect((await hinted('fast')).variants).toEqual(full);
    expect((await hinted('0')).variants).toEqual(full);
    // The kept variant plays.
    const { probe } = await probeVariant(hd.base, (await hinted('100')).variants[0]!.uri);
    expect(probe.streams.find((st) => st.codec_type === 'video')?.height).toBe(720);

    const mpd = await (await fetchOk(`${hd.base}/video.mpd?clientBandwidthHint=100`)).text();
    // One video Representation (the top one) and the audio one.
    expect(mpd.match(/<Representation /g)).toHaveLength(2);
    expect(mpd).toMatch(/<Representation [^>]*height="720"/);
    expect(mpd).toMatch(/<Representation [^>]*mimeType="audio\/mp4"/);
    expect(mpd.match(/<AdaptationSet /g)).toHaveLength(2);
  });

  it('answers Range requests with 206 and caches segments', async () => {
    const res = await fetch(`${hd.base}/chunk-0-00001.m4s`, { headers: { Range: 'bytes=0-99' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect((await res.arrayBuffer()).byteLength).toBe(100);
    expect(res.headers.get('cache-control')).toContain('max-age=');
  });

  it('refuses paths that try to leave the video folder, and unknown uids, with 404', async () => {
    for (const path of [
      `/${hd.uid}/manifest/..%2F..%2Fministream.sqlite`,
      `/${hd.uid}/manifest/..%2Foriginal`,
      `/${hd.uid}/manifest/%2E%2E%2Fladder.json`,
      `/${hd.uid}/manifest/ladder.json`,
      `/${hd.uid}/manifest/..\\original`,
      '/0123456789abcdef0123456789abcdef/manifest/video.m3u8',
      '/..%2F..%2Fetc%2Fpasswd/manifest/video.m3u8',
    ]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
    }
  });
});

describe('sizes', () => {
  it('never upscales: a 320x240 input gets the 240p rung only', async () => {
    const { base } = await encodeOf('small.mp4');
    const master = parseMaster(await (await fetchOk(`${base}/video.m3u8`)).text());
    expect(master.variants.map((v) => v.resolution)).toEqual(['320x240']);
  });

  it('encodes a video without audio, below 240p, at its own size', async () => {
    const { base, video } = await encodeOf('silent.mp4');
    expect(video.status?.state).toBe('ready');
    const master = parseMaster(await (await fetchOk(`${base}/video.m3u8`)).text());
    expect(master.variants.map((v) => v.resolution)).toEqual(['176x144']);
    expect(master.audio).toEqual([]);
  });

  it('follows rotation metadata: a portrait video is sized against its width', async () => {
    const { base, video } = await encodeOf('rotated.mp4');
    expect(video.input).toEqual({ width: 360, height: 640 });
    const master = parseMaster(await (await fetchOk(`${base}/video.m3u8`)).text());
    expect(master.variants.map((v) => v.resolution)).toEqual(['360x640', '240x426']);
  });

  it('makes even sizes from odd ones', async () => {
    const { base } = await encodeOf('odd.mp4');
    const master = parseMaster(await (await fetchOk(`${base}/video.m3u8`)).text());
    expect(master.variants.map((v) => v.resolution)).toEqual(['320x240']);
  });
});

describe('player enhancements', () => {
  it('serves publicDetails as playerEnhancementInfo.json and shows them over the player', async () => {
    const { uid, account } = await encodeOf('small.mp4');
    const cf = server.sdk();
    const info = async () => (await fetchOk(`${server.url}/${uid}/metadata/playerEnhancementInfo.json`)).json();
    expect(await info()).toEqual({});
    const publicDetails = { title: 'Launch <talk>', share_link: 'https://example.com/s', channel_link: 'https://example.com/c', logo: 'https://example.com/logo.png' };
    await cf.stream.edit(uid, { account_id: account, publicDetails });
    expect(await info()).toEqual(publicDetails);
    const page = await (await fetchOk(`${server.url}/${uid}/iframe`)).text();
    expect(page).toContain('<span id="title">Launch &lt;talk&gt;</span>');
    expect(page).toContain('<a id="share" href="https://example.com/s"');
    expect(page).toContain('<img id="logo" src="https://example.com/logo.png"');
    // A logo that is no http(s) URL is not shown.
    await cf.stream.edit(uid, { account_id: account, publicDetails: { ...publicDetails, logo: 'javascript:alert(1)' } });
    expect(await (await fetchOk(`${server.url}/${uid}/iframe`)).text()).not.toContain('javascript:');
  });
});

describe('errors', () => {
  it('ends a truncated video (readable header, missing data) in error ERR_MALFORMED_VIDEO; delivery answers 424', async () => {
    const { video, base, uid } = await encodeOf('truncated-faststart.mp4');
    expect(video.status).toMatchObject({ state: 'error', errorReasonCode: 'ERR_MALFORMED_VIDEO' });
    expect(video.readyToStream).toBe(false);
    expect((await fetch(`${base}/video.m3u8`)).status).toBe(424);
    expect((await fetch(`${server.url}/${uid}/iframe`)).status).toBe(424);
  });

  it.each(['truncated.mp4', 'renamed.mp4', 'audio-only.mp4'])('refuses %s at upload (400, 10059)', async (name) => {
    const { status, body } = await basicUpload(server, freshAccount(), media(name));
    expect(status).toBe(400);
    expect(body.errors[0]!.code).toBe(10059);
  });

  it('answers 404 for the manifest of a video that is not ready yet', async () => {
    const account = freshAccount();
    const { result } = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 }).then((r) => ({ result: r }));
    expect((await fetch(`${server.url}/${result.uid}/manifest/video.m3u8`)).status).toBe(404);
  });
});

describe('player pages', () => {
  it('serves the iframe player with hls.js from this server, and the watch page', async () => {
    const { uid } = await encodeOf('small.mp4');
    const html = await (await fetchOk(`${server.url}/${uid}/iframe?autoplay=true&muted=true&primaryColor=%23ff0000&startTime=1s`)).text();
    expect(html).toContain('/_ministream/assets/hls.min.js');
    expect(html).toContain('manifest/video.m3u8');
    expect(html).toMatch(/<video[^>]* muted/);
    expect(html).toContain('accent-color:#ff0000');
    const js = await fetchOk(`${server.url}/_ministream/assets/hls.min.js`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.text()).length).toBeGreaterThan(100_000);
    const watch = await (await fetchOk(`${server.url}/${uid}/watch`)).text();
    expect(watch).toContain('<iframe src="iframe"');
    expect((await fetch(`${server.url}/${uid}/iframe?primaryColor=red;background:url(x)`)).status).toBe(400);
    // letterboxColor colors around the picture (transparent too); defaultTextTrack is a language tag.
    expect(await (await fetchOk(`${server.url}/${uid}/iframe?letterboxColor=transparent`)).text()).toContain('background:transparent');
    expect(await (await fetchOk(`${server.url}/${uid}/iframe?letterboxColor=%23123456&defaultTextTrack=en-US`)).text()).toContain('"defaultTextTrack":"en-US"');
    expect((await fetch(`${server.url}/${uid}/iframe?letterboxColor=red;x`)).status).toBe(400);
    expect((await fetch(`${server.url}/${uid}/iframe?defaultTextTrack=%3Cscript%3E`)).status).toBe(400);
  });
});

describe('fast encoding', () => {
  it('makes one stream-copied rendition of an H.264/AAC input', async () => {
    const fast = await startTestServer({ encoding: 'fast' });
    try {
      const account = freshAccount();
      const uid = await uploadVideo(fast, account, media('hd.mp4'));
      const video = await settled(fast, account, uid);
      expect(video.status?.state).toBe('ready');
      const master = parseMaster(await (await fetchOk(`${fast.url}/${uid}/manifest/video.m3u8`)).text());
      expect(master.variants.map((v) => v.resolution)).toEqual(['1280x720']);
      const ladder = JSON.parse(readFileSync(join(fast.dataDir, 'media', uid, 'stream', 'ladder.json'), 'utf8'));
      expect(ladder.copy).toBe(true);
    } finally {
      await fast.close();
    }
  });
});

describe('a crash mid-encode', () => {
  it('loses no job: after kill -9 and a restart the video becomes ready', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ministream-crash-'));
    try {
      // A slow preset keeps the encode running long enough to be killed in the middle.
      const first = runCli(['--port', '0', '--data-dir', dataDir, '--x264-preset', 'medium']);
      const url = await first.ready;
      const account = 'acc-crash';
      const up = await basicUpload({ streamUrl: (a: string) => `${url}/client/v4/accounts/${a}/stream` } as TestServer, account, media('hd.mp4'));
      const getState = async () => (await (await fetch(`${url}/client/v4/accounts/${account}/stream/${up.body.result.uid}`)).json()).result.status.state as string;
      await waitFor(getState, (s) => s === 'inprogress', 30_000, 20);
      first.child.kill('SIGKILL');
      await first.exited;

      const second = runCli(['--port', '0', '--data-dir', dataDir]);
      const url2 = await second.ready;
      try {
        const state = await waitFor(
          async () => (await (await fetch(`${url2}/client/v4/accounts/${account}/stream/${up.body.result.uid}`)).json()).result.status.state as string,
          (s) => s === 'ready' || s === 'error',
          60_000,
          100,
        );
        expect(state).toBe('ready');
        const folder = join(dataDir, 'media', up.body.result.uid);
        expect(existsSync(join(folder, 'stream.tmp'))).toBe(false);
        expect(readdirSync(join(folder, 'stream'))).toContain('master.m3u8');
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
