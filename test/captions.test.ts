// Captions: upload (WebVTT, validated), list, get, the VTT text, delete, generate (speech segments
// from ffmpeg's silencedetect), and captions in the HLS master and DASH manifest, as a player sees them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Cloudflare from 'cloudflare';
import { parseMedia } from './helpers/hls.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';
import { validateWebVtt, WebVttError } from '../src/transcode/webvtt.js';
import { silencesFrom, speechCues } from '../src/transcode/caption-job.js';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';

const tools = resolveMediaTools();
let server: TestServer;
let cf: Cloudflare;

const CAPTIONS = '/accounts/{account_id}/stream/{identifier}/captions';
const LANGUAGE = `${CAPTIONS}/{language}`;

const VTT = `WEBVTT

00:00.500 --> 00:01.500
Hallo

2
00:00:01.500 --> 00:00:01.900 align:start
Welt
`;

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast' });
  cf = server.sdk();
});
afterAll(async () => {
  await server?.close();
});

async function readyVideo(file: string) {
  const account = freshAccount();
  const uid = await uploadVideo(server, account, media(file));
  await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 100);
  return { account, uid };
}

/** PUT .../captions/:lang as curl -F file=@x.vtt does it (a file part with a filename). */
async function putCaptionFile(account: string, uid: string, language: string, body: string | Uint8Array<ArrayBuffer>) {
  const form = new FormData();
  form.append('file', new Blob([body], { type: 'text/vtt' }), `${language}.vtt`);
  const res = await fetch(server.streamUrl(account, `/${uid}/captions/${language}`), { method: 'PUT', body: form });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { success: boolean; result: unknown; errors: { code: number; message: string }[] } };
}

/** The cues of a VTT text: [start, end, text] in seconds. */
function cuesOf(vtt: string): [number, number, string][] {
  const time = (s: string) => s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return [...vtt.matchAll(/^([\d:.]+) --> ([\d:.]+)[^\n]*\n([^\n]*)/gm)].map((m) => [time(m[1]!), time(m[2]!), m[3]!]);
}

async function settledCaption(account: string, uid: string, language: string) {
  return waitFor(() => cf.stream.captions.language.get(language, { account_id: account, identifier: uid }), (c) => c.status !== 'inprogress', 30_000, 100);
}

describe('uploaded captions', () => {
  let v: { account: string; uid: string };
  beforeAll(async () => {
    v = await readyVideo('small.mp4');
  });

  it('PUT (the SDK sends the VTT text as a plain multipart field) answers the caption, ready, labelled in its own language', async () => {
    const raw = await cf.stream.captions.language.update('de', { account_id: v.account, identifier: v.uid, file: VTT }).asResponse();
    const body = await raw.json();
    expectSchema('PUT', LANGUAGE, '200', body);
    expect(body.result).toEqual({ language: 'de', label: 'Deutsch', generated: false, status: 'ready' });
    for (const [language, label] of [['tr', 'Türkçe'], ['en', 'English'], ['en-GB', 'British English'], ['fr', 'Français']]) {
      const caption = await cf.stream.captions.language.update(language!, { account_id: v.account, identifier: v.uid, file: VTT });
      expect(caption.label).toBe(label);
    }
  });

  it('lists, gets and deletes captions with the SDK; the VTT comes back as text/vtt', async () => {
    const account = v.account;
    await cf.stream.captions.language.update('it', { account_id: account, identifier: v.uid, file: VTT });
    const page = await cf.stream.captions.get(v.uid, { account_id: account });
    expect(page.result.map((c) => c.language)).toEqual(expect.arrayContaining(['de', 'it']));
    const rawList = await fetch(server.streamUrl(account, `/${v.uid}/captions`));
    expectSchema('GET', CAPTIONS, '200', await rawList.json());

    const one = await cf.stream.captions.language.get('it', { account_id: account, identifier: v.uid });
    expect(one).toEqual({ language: 'it', label: 'Italiano', generated: false, status: 'ready' });
    expectSchema('GET', LANGUAGE, '200', await (await fetch(server.streamUrl(account, `/${v.uid}/captions/it`))).json());

    const text = await cf.stream.captions.language.vtt.get('it', { account_id: account, identifier: v.uid });
    expect(text).toBe(VTT);
    const res = await fetch(server.streamUrl(account, `/${v.uid}/captions/it/vtt`));
    expect(res.headers.get('content-type')).toBe('text/vtt; charset=utf-8');

    const deleted = await cf.stream.captions.language.delete('it', { account_id: account, identifier: v.uid });
    expect(deleted).toBe('');
    const after = await cf.stream.captions.get(v.uid, { account_id: account });
    expect(after.result.map((c) => c.language)).not.toContain('it');
    await expect(cf.stream.captions.language.get('it', { account_id: account, identifier: v.uid })).rejects.toMatchObject({ status: 404 });
    await expect(cf.stream.captions.language.vtt.get('it', { account_id: account, identifier: v.uid })).rejects.toMatchObject({ status: 404 });
  });

  it('takes a file part too (curl -F file=@x.vtt), with a BOM and CRLF line ends', async () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(VTT.replace(/\n/g, '\r\n'))]);
    const res = await putCaptionFile(v.account, v.uid, 'es', withBom);
    expect(res.status).toBe(200);
    expectSchema('PUT', LANGUAGE, '200', res.body);
    expect(res.body.result).toMatchObject({ language: 'es', label: 'Español', status: 'ready' });
  });

  it('refuses what is not WebVTT, languages that are not BCP 47, unknown and malformed videos', async () => {
    const bad = [
      'WEBVTX\n\n00:00.000 --> 00:01.000\nx\n', // no signature
      '1\n00:00.000 --> 00:01.000\nno header\n',
      'WEBVTT\n\n00:00.000 -> 00:01.000\nno arrow\n',
      'WEBVTT\n\n0:0.5 --> 00:01.000\nbad time\n',
      'WEBVTT\n\n00:02.000 --> 00:01.000\nbackwards\n',
      'WEBVTT\n\n00:61.000 --> 00:62.000\nseconds over 59\n',
    ];
    for (const text of bad) {
      const res = await putCaptionFile(v.account, v.uid, 'de', text);
      expect(res.status, text).toBe(400);
      expectSchema('PUT', LANGUAGE, '4XX', res.body);
      expect(res.body.errors[0]!.message).toMatch(/WebVTT/);
    }
    const notUtf8 = await putCaptionFile(v.account, v.uid, 'de', new Uint8Array([...new TextEncoder().encode('WEBVTT\n\n00:00.000 --> 00:01.000\n'), 0xff, 0xfe]));
    expect(notUtf8.status).toBe(400);
    // The caption uploaded earlier is still the one served.
    expect(await cf.stream.captions.language.vtt.get('de', { account_id: v.account, identifier: v.uid })).toBe(VTT);

    for (const language of ['notalanguage', 'en_US', 'xx', '12']) {
      const res = await putCaptionFile(v.account, v.uid, language, VTT);
      expect(res.status, language).toBe(400);
      await expect(cf.stream.captions.language.update(language, { account_id: v.account, identifier: v.uid, file: VTT })).rejects.toMatchObject({ status: 400 });
    }
    await expect(cf.stream.captions.get('0123456789abcdef0123456789abcdef', { account_id: v.account })).rejects.toMatchObject({ status: 404 });
    await expect(cf.stream.captions.language.update('de', { account_id: v.account, identifier: '0123456789abcdef0123456789abcdef', file: VTT })).rejects.toMatchObject({ status: 404 });
    await expect(cf.stream.captions.get(v.uid, { account_id: freshAccount() })).rejects.toMatchObject({ status: 404 });
    await expect(cf.stream.captions.get('not-a-uid', { account_id: v.account })).rejects.toMatchObject({ status: 400 });
    const noFile = await fetch(server.streamUrl(v.account, `/${v.uid}/captions/de`), { method: 'PUT', body: new FormData() });
    expect(noFile.status).toBe(400);
  });

  it('refuses a caption over 10 MB', async () => {
    const big = `WEBVTT\n\nNOTE ${'x'.repeat(10 * 1024 * 1024)}\n`;
    const res = await putCaptionFile(v.account, v.uid, 'pl', big);
    expect(res.status).toBe(413);
    await expect(cf.stream.captions.language.update('pl', { account_id: v.account, identifier: v.uid, file: big })).rejects.toMatchObject({ status: 413 });
    await expect(cf.stream.captions.language.get('pl', { account_id: v.account, identifier: v.uid })).rejects.toMatchObject({ status: 404 });
  });
});

describe('captions in the manifests', () => {
  it('the HLS master lists each ready caption as a SUBTITLES rendition whose playlist and VTT a player can fetch', async () => {
    const v = await readyVideo('small.mp4');
    await cf.stream.captions.language.update('de', { account_id: v.account, identifier: v.uid, file: VTT });
    await cf.stream.captions.language.update('en-GB', { account_id: v.account, identifier: v.uid, file: VTT });
    const base = `${server.url}/${v.uid}/manifest`;
    const masterRes = await fetch(`${base}/video.m3u8`);
    expect(masterRes.status).toBe(200);
    expect(masterRes.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const master = await masterRes.text();
    expect(master).toContain('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=YES,URI="captions_de.m3u8"');
    expect(master).toContain('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="British English",LANGUAGE="en-GB",DEFAULT=NO,AUTOSELECT=YES,URI="captions_en-GB.m3u8"');
    const infs = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    expect(infs.length).toBeGreaterThan(0);
    for (const inf of infs) expect(inf).toContain('SUBTITLES="subs"');

    const playlist = parseMedia(await (await fetch(`${base}/captions_de.m3u8`)).text());
    expect(playlist.ended).toBe(true);
    expect(playlist.segments).toHaveLength(1);
    expect(playlist.segments[0]!.uri).toBe('captions_de.vtt');
    expect(playlist.segments[0]!.duration).toBeCloseTo(2, 1);
    const vtt = await fetch(`${base}/${playlist.segments[0]!.uri}`);
    expect(vtt.status).toBe(200);
    expect(vtt.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(vtt.headers.get('access-control-allow-origin')).toBe('*');
    expect(await vtt.text()).toBe(VTT);

    const mpd = await (await fetch(`${base}/video.mpd`)).text();
    expect(mpd).toMatch(/<AdaptationSet id="\d+" contentType="text" mimeType="text\/vtt" lang="de">/);
    expect(mpd).toContain('<BaseURL>captions_de.vtt</BaseURL>');
    expect(mpd.indexOf('captions_de.vtt')).toBeLessThan(mpd.indexOf('</Period>'));
    // ffmpeg's own DASH reader finds the two WebVTT streams next to the video and audio.
    const dash = await ffprobe(tools.ffprobe.path, `${base}/video.mpd`);
    expect(dash.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac', 'webvtt', 'webvtt']);

    // Unknown languages and names that try to leave the folder read nothing.
    for (const name of ['captions_fr.m3u8', 'captions_fr.vtt', 'captions_..%2Fx.vtt', 'captions_de.vtt%00']) {
      expect((await fetch(`${base}/${name}`)).status, name).toBe(404);
    }
    // Deleted: gone from the master and from delivery.
    await cf.stream.captions.language.delete('de', { account_id: v.account, identifier: v.uid });
    expect(await (await fetch(`${base}/video.m3u8`)).text()).not.toContain('captions_de');
    expect((await fetch(`${base}/captions_de.vtt`)).status).toBe(404);
  });

  it('a video without captions keeps ffmpeg\'s master as it is', async () => {
    const v = await readyVideo('small.mp4');
    const master = await (await fetch(`${server.url}/${v.uid}/manifest/video.m3u8`)).text();
    expect(master).not.toContain('SUBTITLES');
  });
});

describe('generated captions', () => {
  it('POST .../generate answers inprogress, then the caption is ready with speech cues over the tone', async () => {
    const v = await readyVideo('small.mp4');
    const raw = await cf.stream.captions.language.create('en', { account_id: v.account, identifier: v.uid }).asResponse();
    const body = await raw.json();
    expectSchema('POST', `${LANGUAGE}/generate`, '200', body);
    expect(body.result).toEqual({ language: 'en', label: 'English (auto-generated)', generated: true, status: 'inprogress' });
    const done = await settledCaption(v.account, v.uid, 'en');
    expect(done).toEqual({ language: 'en', label: 'English (auto-generated)', generated: true, status: 'ready' });
    const vtt = await cf.stream.captions.language.vtt.get('en', { account_id: v.account, identifier: v.uid });
    expect(validateWebVtt(vtt)).toBe(1);
    const [cue] = cuesOf(vtt);
    expect(cue![0]).toBe(0);
    expect(cue![1]).toBeCloseTo(2, 1);
    expect(cue![2]).toBe('[speech]');
    expect(await (await fetch(`${server.url}/${v.uid}/manifest/video.m3u8`)).text()).toContain('NAME="English (auto-generated)",LANGUAGE="en"');
  });

  it('cues cover the sound and skip the silence in the middle', async () => {
    const v = await readyVideo('gap.mp4');
    await cf.stream.captions.language.create('fr', { account_id: v.account, identifier: v.uid });
    expect((await settledCaption(v.account, v.uid, 'fr')).status).toBe('ready');
    const cues = cuesOf(await cf.stream.captions.language.vtt.get('fr', { account_id: v.account, identifier: v.uid }));
    expect(cues).toHaveLength(2);
    const [first, second] = cues as [[number, number, string], [number, number, string]];
    expect(first[0]).toBe(0);
    expect(first[1]).toBeGreaterThan(0.95);
    expect(first[1]).toBeLessThan(1.1);
    expect(second[0]).toBeGreaterThan(1.95);
    expect(second[0]).toBeLessThan(2.1);
    expect(second[1]).toBeCloseTo(3, 1);
    expect(cues.every((c) => c[2] === '[speech]')).toBe(true);
  });

  it('a video without audio gets a valid VTT without cues', async () => {
    const v = await readyVideo('silent.mp4');
    await cf.stream.captions.language.create('de', { account_id: v.account, identifier: v.uid });
    expect((await settledCaption(v.account, v.uid, 'de')).status).toBe('ready');
    const vtt = await cf.stream.captions.language.vtt.get('de', { account_id: v.account, identifier: v.uid });
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(validateWebVtt(vtt)).toBe(0);
  });

  it('refuses a language that already has a caption (409, not to be retried), unsupported languages and videos not ready', async () => {
    const v = await readyVideo('small.mp4');
    await cf.stream.captions.language.update('de', { account_id: v.account, identifier: v.uid, file: VTT });
    const res = await fetch(server.streamUrl(v.account, `/${v.uid}/captions/de/generate`), { method: 'POST' });
    expect(res.status).toBe(409);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expectSchema('POST', `${LANGUAGE}/generate`, '4XX', await res.json());
    // The SDK with its default retries still makes one request: the answer says not to retry.
    await expect(server.sdk({ maxRetries: 2 }).stream.captions.language.create('de', { account_id: v.account, identifier: v.uid })).rejects.toMatchObject({ status: 409 });

    await expect(cf.stream.captions.language.create('tr', { account_id: v.account, identifier: v.uid })).rejects.toMatchObject({ status: 400 });
    await expect(cf.stream.captions.language.create('klingon', { account_id: v.account, identifier: v.uid })).rejects.toMatchObject({ status: 400 });
    await expect(cf.stream.captions.language.create('en', { account_id: v.account, identifier: '0123456789abcdef0123456789abcdef' })).rejects.toMatchObject({ status: 404 });

    const account = freshAccount();
    const pending = await cf.stream.directUpload.create({ account_id: account, maxDurationSeconds: 60 });
    await expect(cf.stream.captions.language.create('en', { account_id: account, identifier: pending.uid! })).rejects.toMatchObject({ status: 400 });
    // A caption can be uploaded as soon as the video exists.
    expect((await cf.stream.captions.language.update('en', { account_id: account, identifier: pending.uid!, file: VTT })).status).toBe('ready');
  });

  it('uploading over a generated caption makes it an uploaded one; delete, then generate again', async () => {
    const v = await readyVideo('small.mp4');
    await cf.stream.captions.language.create('ja', { account_id: v.account, identifier: v.uid });
    await settledCaption(v.account, v.uid, 'ja');
    const uploaded = await cf.stream.captions.language.update('ja', { account_id: v.account, identifier: v.uid, file: VTT });
    expect(uploaded).toEqual({ language: 'ja', label: '日本語', generated: false, status: 'ready' });
    expect(await cf.stream.captions.language.vtt.get('ja', { account_id: v.account, identifier: v.uid })).toBe(VTT);
    await cf.stream.captions.language.delete('ja', { account_id: v.account, identifier: v.uid });
    const again = await cf.stream.captions.language.create('ja', { account_id: v.account, identifier: v.uid });
    expect(again).toMatchObject({ generated: true, status: 'inprogress', label: '日本語 (auto-generated)' });
    expect((await settledCaption(v.account, v.uid, 'ja')).status).toBe('ready');
  });
});

describe('WebVTT and speech spans (pure)', () => {
  it('validates cues with and without hours, ids, settings, NOTE/STYLE blocks', () => {
    expect(validateWebVtt('WEBVTT')).toBe(0);
    expect(validateWebVtt('WEBVTT - a title\n\nNOTE hi\n\nSTYLE\n::cue { color: red }\n\nid-1\n01:00:00.000 --> 01:00:01.000 line:0\nx\n\n00:01.000 --> 00:02.000\ny')).toBe(2);
    expect(() => validateWebVtt('WEBVTTX\n')).toThrow(WebVttError);
    expect(() => validateWebVtt('WEBVTT\n\njust text\n')).toThrow(/timing/);
  });

  it('turns silencedetect metadata into speech cues', () => {
    const meta = 'frame:1 pts:1 pts_time:1\nlavfi.silence_start=1.02\nframe:2\nlavfi.silence_end=2.01\nlavfi.silence_duration=0.99\nlavfi.silence_start=2.95\n';
    const silences = silencesFrom(meta, 3);
    expect(silences).toEqual([[1.02, 2.01], [2.95, 3]]);
    expect(speechCues(silences, 3)).toEqual([
      { start: 0, end: 1.02, text: '[speech]' },
      { start: 2.01, end: 2.95, text: '[speech]' },
    ]);
    expect(speechCues([[0, 3]], 3)).toEqual([]);
    expect(speechCues([], 2)).toEqual([{ start: 0, end: 2, text: '[speech]' }]);
  });
});
