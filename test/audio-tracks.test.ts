// Extra audio tracks: add by URL (from an origin on loopback) or by file, list, default handling,
// delete; ready tracks appear in the HLS master as alternate audio renditions (and in DASH), and
// their segments hold AAC of the video's length. Plus the pure manifest builder.
import { mkdtempSync, rmSync, openAsBlob, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Cloudflare from 'cloudflare';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { composeDashManifest, composeMasterPlaylist } from '../src/transcode/master-playlist.js';
import { parseMaster, parseMedia } from './helpers/hls.js';
import { expectSchema } from './helpers/openapi.js';
import { startMediaOrigin, type MediaOrigin } from './helpers/origin.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const tools = resolveMediaTools();
const scratch = mkdtempSync(join(tmpdir(), 'ministream-audio-test-'));
let server: TestServer;
let cf: Cloudflare;
let origin: MediaOrigin;
let originUrl: string;

const AUDIO = '/accounts/{account_id}/stream/{identifier}/audio';
const TRACK = `${AUDIO}/{audio_identifier}`;

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast' });
  cf = server.sdk();
  origin = await startMediaOrigin({ '/tone.m4a': 'tone.m4a', '/blip.mp3': 'blip.mp3', '/notes.txt': 'notes.txt' });
  originUrl = origin.url;
});
afterAll(async () => {
  await server?.close();
  await origin?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function readyVideo(file = 'small.mp4') {
  const account = freshAccount();
  const uid = await uploadVideo(server, account, media(file));
  await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 100);
  return { account, uid, base: `${server.url}/${uid}/manifest` };
}

const tracksOf = async (account: string, uid: string) => (await cf.stream.audioTracks.get(uid, { account_id: account })).audio ?? [];

async function settledTrack(account: string, uid: string, trackUid: string) {
  const tracks = await waitFor(() => tracksOf(account, uid), (all) => all.find((t) => t.uid === trackUid)?.status !== 'queued', 30_000, 100);
  return tracks.find((t) => t.uid === trackUid)!;
}

async function uploadTrack(account: string, uid: string, file: string, label?: string) {
  const form = new FormData();
  if (label !== undefined) form.append('label', label);
  form.append('file', await openAsBlob(file), 'track');
  const res = await fetch(server.streamUrl(account, `/${uid}/audio`), { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as { success: boolean; result: { uid: string; label: string; default: boolean; status: string } } };
}

/** A media playlist's init and segments, joined and probed as a player's decoder would get them. */
async function probeTrack(base: string, playlistUri: string) {
  const playlist = parseMedia(await (await fetch(`${base}/${playlistUri}`)).text());
  expect(playlist.ended).toBe(true);
  const dir = playlistUri.slice(0, playlistUri.lastIndexOf('/') + 1);
  const parts: Buffer[] = [];
  for (const uri of [playlist.init!, ...playlist.segments.map((s) => s.uri)]) {
    const res = await fetch(`${base}/${dir}${uri}`);
    expect(res.status, uri).toBe(200);
    parts.push(Buffer.from(await res.arrayBuffer()));
  }
  const file = join(scratch, `track-${Date.now()}-${Math.random().toString(16).slice(2)}.mp4`);
  writeFileSync(file, Buffer.concat(parts));
  return ffprobe(tools.ffprobe.path, file);
}

/** The #EXT-X-MEDIA:TYPE=AUDIO lines of a master, by NAME. */
function audioRenditions(master: string): Map<string, string> {
  const lines = master.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'));
  return new Map(lines.map((l) => [/NAME="([^"]*)"/.exec(l)![1]!, l]));
}

describe('audio tracks from a URL', () => {
  let v: Awaited<ReturnType<typeof readyVideo>>;
  let trackUid: string;
  beforeAll(async () => {
    v = await readyVideo();
  });

  it('POST .../audio/copy answers the track queued; it becomes ready and is listed as {audio: [...]}', async () => {
    const raw = await cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: 'Commentary', url: `${originUrl}/tone.m4a` }).asResponse();
    const body = await raw.json();
    expectSchema('POST', `${AUDIO}/copy`, '200', body);
    expect(body.result).toMatchObject({ label: 'Commentary', default: false, status: 'queued' });
    expect(body.result.uid).toMatch(/^[0-9a-f]{32}$/);
    trackUid = body.result.uid;
    expect(await settledTrack(v.account, v.uid, trackUid)).toEqual({ uid: trackUid, label: 'Commentary', default: false, status: 'ready' });
    // SDK 7.3's shape (the 2024 schema's bare array is not what the SDK reads).
    const list = await (await fetch(server.streamUrl(v.account, `/${v.uid}/audio`))).json();
    expect(list).toMatchObject({ success: true, result: { audio: [{ uid: trackUid, label: 'Commentary', default: false, status: 'ready' }] } });
  });

  it('the HLS master lists it as an alternate rendition of the original audio group; its segments are AAC cut to the video', async () => {
    const master = await (await fetch(`${v.base}/video.m3u8`)).text();
    const renditions = audioRenditions(master);
    expect(renditions.size).toBe(2);
    const original = [...renditions.values()].find((l) => !l.includes('Commentary'))!;
    const group = /GROUP-ID="([^"]*)"/.exec(original)![1];
    expect(original).toContain('DEFAULT=YES');
    expect(renditions.get('Commentary')).toBe(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${group}",NAME="Commentary",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio/${trackUid}/media_0.m3u8"`,
    );
    for (const variant of parseMaster(master).variants) expect(variant.codecs).toContain('mp4a.40.2');

    const probe = await probeTrack(v.base, `audio/${trackUid}/media_0.m3u8`);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['aac']);
    expect(Number(probe.format.duration)).toBeCloseTo(2, 1); // 3 s of tone cut to the 2 s video

    const mpd = await (await fetch(`${v.base}/video.mpd`)).text();
    expect(mpd).toContain('<Label>Commentary</Label>');
    expect(mpd).toContain(`media="audio/${trackUid}/chunk-$Number%05d$.m4s"`);
    expect(mpd).toContain(`initialization="audio/${trackUid}/init.m4s"`);
    // ffmpeg's own DASH reader finds both audio streams in the manifest.
    const dash = await ffprobe(tools.ffprobe.path, `${v.base}/video.mpd`);
    expect(dash.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac', 'aac']);
  });

  it('serves nothing outside the track folder and nothing of unknown tracks', async () => {
    const other = '0123456789abcdef0123456789abcdef';
    for (const path of [`audio/${other}/media_0.m3u8`, `audio/${trackUid}/source`, `audio/${trackUid}/manifest.mpd`, `audio/${trackUid}/..%2F..%2Fstream%2Fmaster.m3u8`, `audio/..%2F${trackUid}/media_0.m3u8`]) {
      expect((await fetch(`${v.base}/${path}`)).status, path).toBe(404);
    }
  });

  it('labels are required and unique; the URL must be absolute http(s)', async () => {
    const dup = await fetch(server.streamUrl(v.account, `/${v.uid}/audio/copy`), {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ label: 'Commentary', url: `${originUrl}/blip.mp3` }),
    });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('x-should-retry')).toBe('false');
    expectSchema('POST', `${AUDIO}/copy`, '4XX', await dup.json());
    await expect(cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: '', url: `${originUrl}/blip.mp3` })).rejects.toMatchObject({ status: 400 });
    await expect(cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: 'No URL' })).rejects.toMatchObject({ status: 400 });
    await expect(cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: 'Relative', url: '/tone.m4a' })).rejects.toMatchObject({ status: 400 });
    await expect(cf.stream.audioTracks.copy('0123456789abcdef0123456789abcdef', { account_id: v.account, label: 'x', url: `${originUrl}/tone.m4a` })).rejects.toMatchObject({ status: 404 });
    await expect(cf.stream.audioTracks.get(v.uid, { account_id: freshAccount() })).rejects.toMatchObject({ status: 404 });
    expect((await tracksOf(v.account, v.uid)).map((t) => t.label)).toEqual(['Commentary']);
  });

  it('a URL that does not answer, or answers with no audio, ends in error and never reaches the master', async () => {
    const missing = await cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: 'Missing', url: `${originUrl}/nothing.m4a` });
    const text = await cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: 'Text', url: `${originUrl}/notes.txt` });
    expect((await settledTrack(v.account, v.uid, missing.uid!)).status).toBe('error');
    expect((await settledTrack(v.account, v.uid, text.uid!)).status).toBe('error');
    const master = await (await fetch(`${v.base}/video.m3u8`)).text();
    expect([...audioRenditions(master).keys()]).not.toContain('Missing');
    expect([...audioRenditions(master).keys()]).not.toContain('Text');
  });
});

describe('audio tracks by file, default handling, delete', () => {
  it('a multipart upload (file + label) is padded to the video; default moves between tracks; the default cannot be deleted', async () => {
    const v = await readyVideo();
    const up = await uploadTrack(v.account, v.uid, media('blip.mp3'), 'Blip');
    expect(up.status).toBe(200);
    expect(up.body.result).toMatchObject({ label: 'Blip', default: false, status: 'queued' });
    const copy = await cf.stream.audioTracks.copy(v.uid, { account_id: v.account, label: 'Tone', url: `${originUrl}/tone.m4a` });
    expect((await settledTrack(v.account, v.uid, up.body.result.uid)).status).toBe('ready');
    expect((await settledTrack(v.account, v.uid, copy.uid!)).status).toBe('ready');
    const blip = up.body.result.uid;
    const tone = copy.uid!;
    const padded = await probeTrack(v.base, `audio/${blip}/media_0.m3u8`);
    expect(padded.streams.map((s) => s.codec_name)).toEqual(['aac']);
    expect(Number(padded.format.duration)).toBeCloseTo(2, 1); // 1 s of MP3 padded with silence

    const raw = await cf.stream.audioTracks.edit(blip, { account_id: v.account, identifier: v.uid, default: true }).asResponse();
    const body = await raw.json();
    expectSchema('PATCH', TRACK, '200', body);
    expect(body.result).toEqual({ uid: blip, label: 'Blip', default: true, status: 'ready' });
    let master = await (await fetch(`${v.base}/video.m3u8`)).text();
    let renditions = audioRenditions(master);
    expect(renditions.get('Blip')).toContain('DEFAULT=YES');
    expect(renditions.get('Tone')).toContain('DEFAULT=NO');
    expect([...renditions.values()].filter((l) => l.includes('DEFAULT=YES'))).toHaveLength(1);

    // default: true on another track clears it on every other one.
    const toneDefault = await cf.stream.audioTracks.edit(tone, { account_id: v.account, identifier: v.uid, default: true, label: 'Tone (default)' });
    expect(toneDefault).toEqual({ uid: tone, label: 'Tone (default)', default: true, status: 'ready' });
    const all = await tracksOf(v.account, v.uid);
    expect(all.map((t) => [t.label, t.default])).toEqual([['Blip', false], ['Tone (default)', true]]);
    master = await (await fetch(`${v.base}/video.m3u8`)).text();
    renditions = audioRenditions(master);
    expect(renditions.get('Tone (default)')).toContain('DEFAULT=YES');
    expect([...renditions.values()].filter((l) => l.includes('DEFAULT=YES'))).toHaveLength(1);

    // Renaming to another track's label is refused.
    await expect(cf.stream.audioTracks.edit(blip, { account_id: v.account, identifier: v.uid, label: 'Tone (default)' })).rejects.toMatchObject({ status: 409 });
    await expect(cf.stream.audioTracks.edit('0123456789abcdef0123456789abcdef', { account_id: v.account, identifier: v.uid, label: 'x' })).rejects.toMatchObject({ status: 404 });

    // The default track cannot be deleted; another can.
    const refused = await fetch(server.streamUrl(v.account, `/${v.uid}/audio/${tone}`), { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    // (The 2024 schema reuses the success envelope as this operation's 4XX schema: checked by hand.)
    expect(await refused.json()).toMatchObject({ result: null, success: false, errors: [{ code: 10005 }] });
    const rawDelete = await cf.stream.audioTracks.delete(blip, { account_id: v.account, identifier: v.uid }).asResponse();
    const deleted = await rawDelete.json();
    expectSchema('DELETE', TRACK, '200', deleted);
    expect(deleted.result).toBe('ok');
    expect((await tracksOf(v.account, v.uid)).map((t) => t.uid)).toEqual([tone]);
    expect((await fetch(`${v.base}/audio/${blip}/media_0.m3u8`)).status).toBe(404);
    await expect(cf.stream.audioTracks.delete(blip, { account_id: v.account, identifier: v.uid })).rejects.toMatchObject({ status: 404 });

    // Once no longer the default, it can go too.
    await cf.stream.audioTracks.edit(tone, { account_id: v.account, identifier: v.uid, default: false });
    expect(await cf.stream.audioTracks.delete(tone, { account_id: v.account, identifier: v.uid })).toBe('ok');
    expect(await tracksOf(v.account, v.uid)).toEqual([]);
    expect(audioRenditions(await (await fetch(`${v.base}/video.m3u8`)).text()).size).toBe(1);
  });

  it('refuses files that are not audio, a missing label and a missing file', async () => {
    const v = await readyVideo();
    expect((await uploadTrack(v.account, v.uid, media('notes.txt'), 'Notes')).status).toBe(400);
    expect((await uploadTrack(v.account, v.uid, media('blip.mp3'))).status).toBe(400);
    const form = new FormData();
    form.append('label', 'Nothing');
    expect((await fetch(server.streamUrl(v.account, `/${v.uid}/audio`), { method: 'POST', body: form })).status).toBe(400);
    expect(await tracksOf(v.account, v.uid)).toEqual([]);
  });

  it('a video without audio of its own gains an audio group for its tracks', async () => {
    const v = await readyVideo('silent.mp4');
    const up = await uploadTrack(v.account, v.uid, media('tone.m4a'), 'Music');
    expect((await settledTrack(v.account, v.uid, up.body.result.uid)).status).toBe('ready');
    const master = await (await fetch(`${v.base}/video.m3u8`)).text();
    const renditions = audioRenditions(master);
    expect(renditions.get('Music')).toContain('DEFAULT=YES');
    for (const variant of parseMaster(master).variants) expect(variant.codecs).toContain('mp4a.40.2');
    expect(master).toMatch(/#EXT-X-STREAM-INF:.*AUDIO="audio"/);
    const probe = await probeTrack(v.base, parseMaster(master).audio[0]!);
    expect(Number(probe.format.duration)).toBeCloseTo(1, 1);
  });
});

describe('durability', () => {
  it('a track and a caption generation still pending when Ministream stops are finished after the restart', async () => {
    const dataDir = join(scratch, 'restart');
    const first = await startTestServer({ encoding: 'fast', inMemory: false, dataDir });
    const account = freshAccount();
    const uid = await uploadVideo(first, account, media('small.mp4'));
    const firstCf = first.sdk();
    await waitFor(() => firstCf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 100);
    const track = await firstCf.stream.audioTracks.copy(uid, { account_id: account, label: 'Late', url: `${originUrl}/tone.m4a` });
    await firstCf.stream.captions.language.create('en', { account_id: account, identifier: uid });
    await first.close(); // the jobs are queued or running: a stop puts them back in the queue

    const second = await startTestServer({ encoding: 'fast', inMemory: false, dataDir });
    try {
      const secondCf = second.sdk();
      await waitFor(() => secondCf.stream.audioTracks.get(uid, { account_id: account }), (r) => r.audio?.[0]?.status === 'ready', 30_000, 100);
      await waitFor(() => secondCf.stream.captions.language.get('en', { account_id: account, identifier: uid }), (c) => c.status === 'ready', 30_000, 100);
      const master = await (await fetch(`${second.url}/${uid}/manifest/video.m3u8`)).text();
      expect(master).toContain(`URI="audio/${track.uid}/media_0.m3u8"`);
      expect(master).toContain('URI="captions_en.m3u8"');
    } finally {
      await second.close();
    }
  });
});

describe('composeMasterPlaylist / composeDashManifest (pure)', () => {
  const FFMPEG_MASTER = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_1",DEFAULT=YES,URI="media_1.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=212782,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2",AUDIO="group_A1"',
    'media_0.m3u8',
    '',
  ].join('\n');
  const path = (uid: string) => `audio/${uid}/media_0.m3u8`;

  it('returns ffmpeg\'s master unchanged with nothing to add', () => {
    expect(composeMasterPlaylist(FFMPEG_MASTER, [], [], path)).toBe(FFMPEG_MASTER);
  });

  it('adds subtitles and audio renditions before the variants and names the groups on every variant', () => {
    const out = composeMasterPlaylist(
      FFMPEG_MASTER,
      [{ language: 'de', label: 'Deutsch' }],
      [{ uid: 't1', label: 'Say "hi"', isDefault: true }, { uid: 't2', label: 'B', isDefault: false }],
      path,
    );
    expect(out.split('\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_1",DEFAULT=NO,URI="media_1.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="Say \'hi\'",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/t1/media_0.m3u8"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="B",DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",URI="audio/t2/media_0.m3u8"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=YES,URI="captions_de.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=212782,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2",AUDIO="group_A1",SUBTITLES="subs"',
      'media_0.m3u8',
      '',
    ]);
  });

  it('gives a video without audio an audio group', () => {
    const silent = '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=176x144,CODECS="avc1.42c00b"\nmedia_0.m3u8\n';
    const out = composeMasterPlaylist(silent, [], [{ uid: 't1', label: 'A', isDefault: false }], path);
    expect(out).toContain('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="A",DEFAULT=YES,');
    expect(out).toContain('#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=176x144,CODECS="avc1.42c00b,mp4a.40.2",AUDIO="audio"\n');
  });

  it('adds DASH adaptation sets before the end of the period, with escaped labels', () => {
    const mpd = '<MPD>\n\t<Period id="0" start="PT0.0S">\n\t\t<AdaptationSet id="0" contentType="video">\n\t\t</AdaptationSet>\n\t</Period>\n</MPD>\n';
    const track = '<MPD><Period><AdaptationSet id="0"><Representation id="0" mimeType="audio/mp4" bandwidth="128000"><SegmentTemplate initialization="init.m4s" media="chunk-$Number%05d$.m4s" /></Representation></AdaptationSet></Period></MPD>';
    const out = composeDashManifest(mpd, [{ language: 'fr', label: 'Français & <co>' }], [{ uid: 'ab', label: 'A', isDefault: false, manifest: track }]);
    expect(out).toContain('<AdaptationSet id="1" contentType="audio"');
    expect(out).toContain('<Representation id="audio-ab" mimeType="audio/mp4" bandwidth="128000"><SegmentTemplate initialization="audio/ab/init.m4s" media="audio/ab/chunk-$Number%05d$.m4s" /></Representation>');
    expect(out).toContain('<AdaptationSet id="2" contentType="text" mimeType="text/vtt" lang="fr">');
    expect(out).toContain('<Label>Français &amp; &lt;co&gt;</Label>');
    expect(out.indexOf('captions_fr.vtt')).toBeLessThan(out.indexOf('</Period>'));
    expect(out.endsWith('\t</Period>\n</MPD>\n')).toBe(true);
  });
});
