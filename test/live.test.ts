// Stream Live end to end: ffmpeg pushes a clip in real time to the RTMP URL the SDK returned; the
// live HLS ladder is served and advances; outputs get the stream re-pushed; webhooks tell connected
// and disconnected; the recording becomes a ready video. Wrong keys, disabled inputs and unsupported
// codecs are refused; an encoder killed mid-stream leaves a consistent state, and one that comes back
// within the timeout continues the same recording.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Cloudflare from 'cloudflare';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { parseMaster, parseMedia } from './helpers/hls.js';
import { freePort, pushClip, pushWrongCodec, rtmpReceiver, webhookReceiver } from './helpers/live.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

type LiveInput = Awaited<ReturnType<Cloudflare['stream']['liveInputs']['create']>>;
type Video = Awaited<ReturnType<Cloudflare['stream']['get']>>;

let server: TestServer;
let cf: Cloudflare;
let work: string;
const ffprobePath = resolveMediaTools().ffprobe.path;

beforeAll(async () => {
  // A short reconnect timeout (recording.timeoutSeconds 0) keeps the suite quick.
  server = await startTestServer({ encoding: 'fast', rtmpPort: 0, liveTimeoutSeconds: 1, webhookRetryBaseMs: 50 });
  cf = server.sdk();
  work = mkdtempSync(join(tmpdir(), 'ministream-live-test-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const pushUrl = (input: LiveInput) => `${input.rtmps!.url}${input.rtmps!.streamKey}`;
const inputVideos = async (account: string, input: LiveInput) =>
  ((await (await fetch(server.streamUrl(account, `/live_inputs/${input.uid}/videos`))).json()) as { result: Video[] }).result;
const statusOf = async (input: LiveInput) =>
  ((await (await fetch(`${server.url}/_ministream/live_inputs/${input.uid}/status`)).json()) as {
    result: { status: string | null; connected: boolean; history: { status: string; videoUid: string | null }[] };
  }).result;

/** GETs a delivery path as a page of `origin` would. */
const get = (path: string, origin?: string) => fetch(`${server.url}${path}`, { headers: origin ? { origin } : {} });

describe('an encoder pushes to a live input', () => {
  it('serves a live ladder that advances, simulcasts, notifies, and records a ready video', async () => {
    const account = freshAccount();
    const hooks = await webhookReceiver();
    await cf.stream.webhooks.update({ account_id: account, notificationUrl: hooks.url });
    const input = await cf.stream.liveInputs.create({
      account_id: account,
      meta: { name: 'Studio A' },
      defaultCreator: 'studio-1',
      deleteRecordingAfterDays: 30,
      recording: { mode: 'automatic', allowedOrigins: ['example.com'] },
    });
    // Outputs: a target that receives, one that refuses (nothing listens), one disabled.
    const port = await freePort();
    const received = join(work, 'simulcast.flv');
    const receiver = rtmpReceiver(port, 'target-key', received);
    await cf.stream.liveInputs.outputs.create(input.uid!, { account_id: account, url: `rtmp://127.0.0.1:${port}/app`, streamKey: 'target-key' });
    await cf.stream.liveInputs.outputs.create(input.uid!, { account_id: account, url: `rtmp://127.0.0.1:${await freePort()}/app`, streamKey: 'nobody' });
    await cf.stream.liveInputs.outputs.create(input.uid!, { account_id: account, url: 'rtmp://127.0.0.1:9/app', streamKey: 'off', enabled: false });

    const started = Date.now();
    const encoder = pushClip(pushUrl(input), media('live.mp4'));
    const page = 'https://example.com';
    const master = await waitFor(() => get(`/${input.uid}/manifest/video.m3u8`, page), (r) => r.status === 200, 20_000, 100);
    const firstPlayableMs = Date.now() - started;
    console.log(`live: first playable ${firstPlayableMs} ms after the push started`);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(master.headers.get('cache-control')).toMatch(/no-cache/);
    // The ladder: the source as pushed, and a lower rung.
    const { variants } = parseMaster(await master.text());
    expect(variants.map((v) => v.resolution)).toEqual(['640x360', '426x240']);
    // The copied variant's codecs come from the encoder's H.264 and AAC headers (the clip: x264 ultrafast, Constrained Baseline 3.0).
    expect(variants[0]!.codecs).toBe('avc1.42c01e,mp4a.40.2');
    expect(variants[1]!.codecs).toMatch(/^avc1\.42c0..,mp4a\.40\.2$/);
    // clientBandwidthHint keeps the rung nearest the hint (here the lower one).
    const hinted = parseMaster(await (await get(`/${input.uid}/manifest/video.m3u8?clientBandwidthHint=0.2`, page)).text());
    expect(hinted.variants.map((v) => v.resolution)).toEqual(['426x240']);

    // The input is connected and its broadcast is a live video.
    expect((await cf.stream.liveInputs.get(input.uid!, { account_id: account })).status).toBe('connected');
    const [live] = await inputVideos(account, input);
    expect(live).toMatchObject({ liveInput: input.uid, creator: 'studio-1', size: 0, status: { state: 'live-inprogress' }, allowedOrigins: ['example.com'], requireSignedURLs: false });
    expect(live!.meta).toEqual({ name: expect.stringMatching(/^Studio A \d\d [A-Z][a-z]{2} \d\d \d\d:\d\d UTC$/) });
    expectSchema('GET', '/accounts/{account_id}/stream/{identifier}', '200', await cf.stream.get(live!.uid!, { account_id: account }).asResponse().then((r) => r.json()));
    const listed = await cf.stream.list({ account_id: account, live_input_id: input.uid });
    expect(listed.result.map((v) => v.uid)).toEqual([live!.uid]);
    expect(await (await get(`/${input.uid}/lifecycle`)).json()).toEqual({ isInput: true, videoUID: live!.uid, live: true });

    // The variant playlists advance while the push goes on, and never end while live.
    const playlist = async () => parseMedia(await (await get(`/${input.uid}/manifest/${variants[0]!.uri}`, page)).text());
    const before = await playlist();
    expect(before.ended).toBe(false);
    expect(before.segments.length).toBeGreaterThan(0);
    const after = await waitFor(playlist, (p) => p.segments.length > before.segments.length, 10_000, 200);
    expect(after.ended).toBe(false);
    const segment = await get(`/${input.uid}/manifest/${after.segments.at(-1)!.uri}`, page);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    // The live video's own uid serves the same broadcast; other pages and no page are refused.
    expect((await get(`/${live!.uid}/manifest/video.m3u8`, page)).status).toBe(200);
    expect((await get(`/${input.uid}/manifest/video.m3u8`, 'https://elsewhere.example')).status).toBe(403);
    expect((await get(`/${input.uid}/manifest/video.m3u8`)).status).toBe(403);
    expect((await get(`/${input.uid}/manifest/..%2F..%2Fministream.sqlite`, page)).status).toBe(404);
    // RTMP playback with the playback key (rtmpsPlayback); an unknown name is refused.
    const played = await ffprobe(ffprobePath, `${input.rtmpsPlayback!.url}${input.rtmpsPlayback!.streamKey}`);
    expect(played.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    await expect(ffprobe(ffprobePath, `${input.rtmpsPlayback!.url}not-a-key`)).rejects.toThrow();

    const pushed = await encoder.exited;
    expect(pushed.code, pushed.stderr).toBe(0);
    // The encoder left: disconnected, then (after the timeout) the recording is encoded like an upload.
    await waitFor(() => cf.stream.liveInputs.get(input.uid!, { account_id: account }), (i) => i.status === 'client_disconnect', 10_000, 100);
    const recording = await waitFor(() => cf.stream.get(live!.uid!, { account_id: account }), (v) => v.status?.state === 'ready' || v.status?.state === 'error', 30_000, 200);
    expect(recording.status?.state).toBe('ready');
    expect(recording).toMatchObject({ uid: live!.uid, liveInput: input.uid, creator: 'studio-1', readyToStream: true, allowedOrigins: ['example.com'], requireSignedURLs: false });
    expect(recording.duration).toBeGreaterThan(7.5);
    expect(recording.duration).toBeLessThan(8.6);
    // deleteRecordingAfterDays: 30 days from the end of the broadcast.
    expect(Date.parse(recording.scheduledDeletion!) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    expect(Date.parse(recording.scheduledDeletion!) - Date.now()).toBeLessThan(30 * 86_400_000);
    expect((await get(`/${live!.uid}/manifest/video.m3u8`, page)).status).toBe(200);
    expect((await inputVideos(account, input)).map((v) => v.status?.state)).toEqual(['ready']);
    // The input's own path no longer names a broadcast: Cloudflare's empty 204, "Stream has not yet started".
    const idle = await get(`/${input.uid}/manifest/video.m3u8`, page);
    expect(idle.status).toBe(204);
    expect(await idle.text()).toBe('');
    expect((await get(`/${input.uid}/manifest/video.m3u8`, 'https://elsewhere.example')).status).toBe(403);

    // The output that listened got the stream (the one that refused changed nothing).
    const simulcast = await receiver.exited;
    expect(simulcast.code, simulcast.stderr).toBe(0);
    const probe = await ffprobe(ffprobePath, received);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Number(probe.format.duration)).toBeGreaterThan(5);

    // Notifications, in Cloudflare's live notification shape, signed like every webhook.
    const events = await waitFor(async () => hooks.received.map((r) => JSON.parse(r.body) as Record<string, unknown>), (e) => e.length >= 3, 10_000, 100);
    const live_ = events.filter((e) => (e.data as { notification_name?: string } | undefined)?.notification_name === 'Stream Live Input');
    expect(live_.map((e) => (e.data as { event_type: string }).event_type)).toEqual(['live_input.connected', 'live_input.disconnected']);
    expect(live_[0]).toMatchObject({ data: { input_id: input.uid, updated_at: expect.any(String) }, ts: expect.any(Number), text: expect.any(String), name: expect.any(String) });
    expect(hooks.received.every((r) => /^time=\d+,sig1=[0-9a-f]{64}$/.test(String(r.headers['webhook-signature'])))).toBe(true);
    expect(events.some((e) => e.uid === live!.uid && (e.status as { state: string }).state === 'ready')).toBe(true);
    await hooks.close();

    const { history } = await statusOf(input);
    expect(history.map((h) => h.status)).toEqual(['connected', 'client_disconnect']);
    expect(history[0]!.videoUid).toBe(live!.uid);
  });
});

describe('live instant clips and DVR', () => {
  it('serves clip.m3u8 and clip.mp4 of a window of the broadcast by the video id, and DVR playlists', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });
    const encoder = pushClip(pushUrl(input), media('live.mp4'));
    // A master asked for the moment the encoder connects waits for the first segment, and names the
    // copied variant's codecs all the same (they arrive with the encoder's first frames).
    await waitFor(() => statusOf(input), (st) => st.connected, 20_000, 20);
    const early = parseMaster(await (await get(`/${input.uid}/manifest/video.m3u8`)).text());
    expect(early.variants[0]!.codecs).toBe('avc1.42c01e,mp4a.40.2');
    const [live] = await waitFor(() => inputVideos(account, input), (v) => v[0]?.readyToStream === true, 20_000, 100);
    // No API key needed (Cloudflare's): plain GETs on the video's id, once 4 s are recorded.
    const clip = await waitFor(() => get(`/${live!.uid}/manifest/clip.m3u8?time=1s&duration=3s`), (r) => r.status === 200, 15_000, 250);
    expect(clip.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const playlist = parseMedia(await clip.text());
    expect(playlist.ended).toBe(true);
    const covered = playlist.segments.reduce((sum, seg) => sum + seg.duration, 0);
    expect(covered).toBeGreaterThanOrEqual(3);
    expect(covered).toBeLessThanOrEqual(3 + 2 * 2.1);
    const segment = await get(`/${live!.uid}/manifest/${playlist.segments[0]!.uri}`);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');

    const asked = Date.now();
    const mp4 = await get(`/${live!.uid}/clip.mp4?time=1s&duration=3s&filename=clip.mp4`);
    expect(mp4.status).toBe(200);
    console.log(`live: a 3-s clip.mp4 answered in ${Date.now() - asked} ms`);
    expect(mp4.headers.get('content-type')).toBe('video/mp4');
    expect(mp4.headers.get('content-disposition')).toBe('attachment; filename="clip.mp4"');
    const file = join(work, 'instant-clip.mp4');
    writeFileSync(file, Buffer.from(await mp4.arrayBuffer()));
    const probe = await ffprobe(ffprobePath, file);
    expect(probe.streams.map((st) => st.codec_name).sort()).toEqual(['aac', 'h264']);
    // A stream-copy cut: it starts on the keyframe at or before 1 s (the clip has one a second).
    expect(Number(probe.format.duration)).toBeGreaterThan(2.5);
    expect(Number(probe.format.duration)).toBeLessThan(4.2);
    // Clips use no storage: nothing is left in the incoming folder.
    expect(readdirSync(join(server.dataDir, 'incoming')).filter((n) => n.includes('-clip-'))).toEqual([]);

    // DVR (dvrEnabled=true): every variant lists the broadcast from its first segment, as an EVENT playlist.
    const dvrMaster = await (await get(`/${live!.uid}/manifest/video.m3u8?dvrEnabled=true`)).text();
    const dvrVariants = parseMaster(dvrMaster).variants;
    expect(dvrVariants.length).toBe(2);
    for (const variant of dvrVariants) {
      expect(variant.uri).toMatch(/^v\d\.m3u8\?dvrEnabled=true$/);
      const text = await (await get(`/${live!.uid}/manifest/${variant.uri}`)).text();
      expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
      const dvr = parseMedia(text);
      expect(dvr.ended).toBe(false);
      expect(dvr.segments[0]!.uri).toMatch(/^v\d-0000[01]\.ts$/);
      expect((await get(`/${live!.uid}/manifest/${dvr.segments[0]!.uri}`)).status).toBe(200);
    }
    expect(await (await get(`/${live!.uid}/iframe?dvrEnabled=true`)).text()).toContain('"manifest/video.m3u8?dvrEnabled=true"');

    // A preview of the last seconds (duration=), by the input's id: its headers name where it starts
    // and the live video, which is what an instant clip of it needs.
    const preview = await get(`/${input.uid}/manifest/video.m3u8?duration=2s`);
    expect(preview.status).toBe(200);
    const startSeconds = Number(preview.headers.get('preview-start-seconds'));
    expect(preview.headers.get('stream-media-id')).toBe(live!.uid);
    expect(startSeconds).toBeGreaterThan(0);
    const previewVariant = parseMaster(await preview.text()).variants[0]!;
    expect(previewVariant.uri).toMatch(/^v0\.m3u8\?previewFrom=\d+$/);
    const previewList = parseMedia(await (await get(`/${input.uid}/manifest/${previewVariant.uri}`)).text());
    const whole = parseMedia(await (await get(`/${live!.uid}/manifest/v0.m3u8?dvrEnabled=true`)).text());
    // The preview is the tail of the whole broadcast, from the segment at preview-start-seconds.
    const first = whole.segments.findIndex((seg) => seg.uri === previewList.segments[0]!.uri);
    expect(first).toBeGreaterThan(0);
    expect(whole.segments.slice(0, first).reduce((sum, seg) => sum + seg.duration, 0)).toBeCloseTo(startSeconds, 3);
    expect((await get(`/${input.uid}/manifest/video.m3u8?duration=6m`)).status).toBe(400);

    // Live DASH (playback.dash): a dynamic MPD of the stream as pushed, which ffprobe reads over HTTP.
    const mpd = await get(`/${input.uid}/manifest/video.mpd`);
    expect(mpd.status).toBe(200);
    expect(mpd.headers.get('content-type')).toBe('application/dash+xml');
    expect(await mpd.text()).toContain('type="dynamic"');
    const dash = await ffprobe(ffprobePath, input.playback!.dash!);
    expect(dash.streams.map((st) => st.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(dash.streams.find((st) => st.codec_type === 'video')!.width).toBe(640);

    // Live viewer counts: two players (their own user agents) asking for playlists, by the input's or the video's id.
    for (const agent of ['viewer-a', 'viewer-b']) expect((await fetch(`${server.url}/${live!.uid}/manifest/v0.m3u8`, { headers: { 'user-agent': agent } })).status).toBe(200);
    const views = async (id: string) => (await (await get(`/${id}/views`)).json()) as { liveViewers: number };
    expect((await views(input.uid!)).liveViewers).toBeGreaterThanOrEqual(2);
    expect(await views(live!.uid!)).toEqual(await views(input.uid!));
    expect(await (await get(`/${live!.uid}/iframe`)).text()).toContain('<span id="viewers"></span>');
    // recording.hideLiveViewerCount: the player does not show it.
    await cf.stream.liveInputs.update(input.uid!, { account_id: account, recording: { mode: 'automatic', hideLiveViewerCount: true } });
    expect(await (await get(`/${live!.uid}/iframe`)).text()).not.toContain('id="viewers"');
    expect((await get(`/${'0'.repeat(32)}/views`)).status).toBe(404);

    // Live thumbnails: the latest picture by default, a moment of the broadcast with time=, and GIFs.
    for (const [path, type] of [
      [`/${input.uid}/thumbnails/thumbnail.jpg`, 'image/jpeg'],
      [`/${live!.uid}/thumbnails/thumbnail.png?time=1s&width=160`, 'image/png'],
      [`/${input.uid}/thumbnails/thumbnail.gif?time=0s&duration=2s&width=120`, 'image/gif'],
    ] as const) {
      const image = await get(path);
      expect(image.status, path).toBe(200);
      expect(image.headers.get('content-type')).toBe(type);
      const saved = join(work, `live-thumbnail.${type.split('/')[1]}`);
      writeFileSync(saved, Buffer.from(await image.arrayBuffer()));
      const frame = (await ffprobe(ffprobePath, saved)).streams[0]!;
      expect(frame.width).toBe(path.includes('width=160') ? 160 : path.includes('width=120') ? 120 : 640);
    }

    // Cloudflare's rules: the video's id only, at most 60 s, within what was recorded.
    expect((await get(`/${input.uid}/manifest/clip.m3u8?time=1s&duration=3s`)).status).toBe(404);
    expect((await get(`/${live!.uid}/manifest/clip.m3u8?time=1s&duration=61s`)).status).toBe(400);
    expect((await get(`/${live!.uid}/manifest/clip.m3u8?time=1s`)).status).toBe(400);
    const past = await get(`/${live!.uid}/clip.mp4?time=900s&duration=10s`);
    expect(past.status).toBe(400);
    expect(await past.json()).toMatchObject({ success: false, errors: [{ code: 10005, message: expect.stringMatching(/ends past what the broadcast has recorded so far/) }] });
    encoder.child.kill('SIGKILL');
    await encoder.exited;
  });
});

describe('refusals', () => {
  it('refuses a wrong stream key, a disabled input and an unsupported codec', async () => {
    const account = freshAccount();
    const hooks = await webhookReceiver();
    await cf.stream.webhooks.update({ account_id: account, notificationUrl: hooks.url });
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });

    const wrong = await pushClip(`${input.rtmps!.url}${'0'.repeat(32)}k${'0'.repeat(32)}`, media('live.mp4')).exited;
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/unknown stream key/);

    await cf.stream.liveInputs.update(input.uid!, { account_id: account, enabled: false });
    const disabled = await pushClip(pushUrl(input), media('live.mp4')).exited;
    expect(disabled.code).not.toBe(0);
    expect(disabled.stderr).toMatch(/disabled/);
    expect((await cf.stream.liveInputs.get(input.uid!, { account_id: account })).status).toBeNull();
    await cf.stream.liveInputs.update(input.uid!, { account_id: account, enabled: true });

    // Sorenson H.263 (FLV's own codec): Stream Live takes H.264 only.
    const codec = await pushWrongCodec(pushUrl(input), 5).exited;
    expect(codec.code).not.toBe(0);
    const errored = await waitFor(
      async () => hooks.received.map((r) => JSON.parse(r.body) as { data: { event_type: string; live_input_errored?: unknown } }),
      (e) => e.some((x) => x.data.event_type === 'live_input.errored'),
      10_000,
      100,
    );
    expect(errored.find((x) => x.data.event_type === 'live_input.errored')!.data.live_input_errored).toEqual({
      error: { code: 'ERR_UNSUPPORTED_VIDEO_CODEC', message: expect.any(String) },
      video_codec: 'flv1',
      audio_codec: null,
    });
    await hooks.close();
    // Nothing was recorded from it.
    await waitFor(() => inputVideos(account, input), (v) => v.length === 0, 10_000, 200);
  });

  it('recording.mode off: the push is accepted (for outputs) but neither played nor recorded', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account });
    expect(input.recording?.mode).toBe('off');
    const encoder = pushClip(pushUrl(input), media('live.mp4'));
    await waitFor(() => statusOf(input), (s) => s.connected, 10_000, 100);
    await new Promise((r) => setTimeout(r, 2500));
    // Nothing to play: the answer of an input with nothing live on it.
    expect((await get(`/${input.uid}/manifest/video.m3u8`)).status).toBe(204);
    expect(await inputVideos(account, input)).toEqual([]);
    encoder.child.kill('SIGKILL');
    await encoder.exited;
    await waitFor(() => statusOf(input), (s) => s.status === 'client_disconnect', 10_000, 100);
    expect(await inputVideos(account, input)).toEqual([]);
  });
});

describe('an encoder that drops and comes back', () => {
  it('killed mid-stream: disconnected, and a reconnect within the timeout continues the same signed recording', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic', requireSignedURLs: true, timeoutSeconds: 4 } });
    const first = pushClip(pushUrl(input), media('live.mp4'), { loop: true });
    const video = (await waitFor(() => inputVideos(account, input), (v) => v[0]?.readyToStream === true, 20_000, 100))[0]!;
    expect(video.requireSignedURLs).toBe(true);
    // requireSignedURLs: the bare uids are refused, a token of the live video plays.
    expect((await get(`/${input.uid}/manifest/video.m3u8`)).status).toBe(401);
    expect((await get(`/${video.uid}/manifest/video.m3u8`)).status).toBe(401);
    const { token } = await cf.stream.token.create(video.uid!, { account_id: account });
    const signed = await get(`/${token}/manifest/video.m3u8`);
    expect(signed.status).toBe(200);
    const { variants } = parseMaster(await signed.text());
    expect((await get(`/${token}/manifest/${variants[0]!.uri}`)).status).toBe(200);

    await waitFor(async () => parseMedia(await (await get(`/${token}/manifest/${variants[0]!.uri}`)).text()), (p) => p.segments.length >= 2, 10_000, 200);
    first.child.kill('SIGKILL');
    await first.exited;
    const dropped = await waitFor(() => statusOf(input), (s) => s.status === 'client_disconnect', 10_000, 100);
    expect(dropped.connected).toBe(false);
    // Within the timeout the broadcast waits for its encoder: still live, not yet a recording.
    expect((await cf.stream.get(video.uid!, { account_id: account })).status?.state).toBe('live-inprogress');
    expect(await (await get(`/${input.uid}/lifecycle`)).json()).toEqual({ isInput: true, videoUID: video.uid, live: false });

    const second = await pushClip(pushUrl(input), media('live.mp4')).exited;
    expect(second.code, second.stderr).toBe(0);
    const recording = await waitFor(() => cf.stream.get(video.uid!, { account_id: account }), (v) => v.status?.state === 'ready', 30_000, 200);
    // One video holds both connections: what the first pushed before the kill, and the 8 s of the second.
    expect(await inputVideos(account, input)).toHaveLength(1);
    expect(recording.duration).toBeGreaterThan(8 + 2);
    expect(recording.requireSignedURLs).toBe(true);
    expect((await get(`/${video.uid}/manifest/video.m3u8`)).status).toBe(401);
    const { history } = await statusOf(input);
    expect(history.map((h) => h.status)).toEqual(['connected', 'client_disconnect', 'reconnected', 'client_disconnect']);
    expect(new Set(history.map((h) => h.videoUid))).toEqual(new Set([video.uid]));
  });
});

describe('a restart during a broadcast', () => {
  it('the broadcast waits for its encoder, then becomes a ready recording', async () => {
    const dataDir = join(work, 'restart');
    let first: TestServer | undefined = await startTestServer({ encoding: 'fast', rtmpPort: 0, liveTimeoutSeconds: 1, inMemory: false, dataDir });
    let second: TestServer | undefined;
    try {
      const account = freshAccount();
      const client = first.sdk();
      const input = await client.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic', timeoutSeconds: 2 } });
      const encoder = pushClip(pushUrl(input), media('live.mp4'), { loop: true });
      const video = (await waitFor(async () => ((await (await fetch(first!.streamUrl(account, `/live_inputs/${input.uid}/videos`))).json()) as { result: Video[] }).result, (v) => v[0]?.readyToStream === true, 20_000, 100))[0]!;
      await new Promise((r) => setTimeout(r, 2500));
      await first.close();
      first = undefined;
      const pushed = await encoder.exited;
      expect(pushed.code).not.toBe(0); // the server went away under it

      second = await startTestServer({ encoding: 'fast', rtmpPort: 0, liveTimeoutSeconds: 1, inMemory: false, dataDir });
      const again = second.sdk();
      // Nobody is connected after a restart; the cut-short broadcast is recorded after its timeout.
      expect((await again.stream.liveInputs.get(input.uid!, { account_id: account })).status).toBe('client_disconnect');
      const recording = await waitFor(() => again.stream.get(video.uid!, { account_id: account }), (v) => v.status?.state === 'ready', 30_000, 200);
      expect(recording.liveInput).toBe(input.uid);
      expect(recording.duration).toBeGreaterThan(3);
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
