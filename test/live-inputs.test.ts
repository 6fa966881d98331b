// The live input API through the official SDK: create (every field, Idempotency-Key), list, get,
// update (PUT), delete, outputs, the videos of an input, and the paths around live delivery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { planLiveLadder } from '../src/live/live-transcoder.js';
import { outputTarget } from '../src/live/simulcast.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, startTestServer, type TestServer } from './helpers/server.js';

const INPUTS = '/accounts/{account_id}/stream/live_inputs';
const INPUT = `${INPUTS}/{live_input_identifier}`;
const OUTPUTS = `${INPUT}/outputs`;
const OUTPUT = `${OUTPUTS}/{output_identifier}`;

let server: TestServer;
let cf: Cloudflare;

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast', rtmpPort: 0 });
  cf = server.sdk();
});
afterAll(async () => {
  await server?.close();
});

const rawJson = async (p: { asResponse(): Promise<Response> }) => (await p.asResponse()).json() as Promise<{ result: Record<string, unknown> }>;

describe('live inputs (SDK)', () => {
  it('creates an input with every field and answers the credentials of Ministream\'s own listeners', async () => {
    const account = freshAccount();
    const created = await cf.stream.liveInputs.create({
      account_id: account,
      meta: { name: 'studio' },
      defaultCreator: 'creator-1',
      enabled: true,
      deleteRecordingAfterDays: 45,
      preferLowLatency: true,
      recording: { mode: 'automatic', timeoutSeconds: 7, requireSignedURLs: true, allowedOrigins: ['example.com'], hideLiveViewerCount: true },
    });
    expect(created.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      meta: { name: 'studio' },
      enabled: true,
      deleteRecordingAfterDays: 45,
      preferLowLatency: true,
      status: null,
      recording: { mode: 'automatic', timeoutSeconds: 7, requireSignedURLs: true, allowedOrigins: ['example.com'], hideLiveViewerCount: true },
    });
    const host = new URL(server.url).hostname;
    // RTMP on Ministream's own port, with Cloudflare's stream key shape.
    expect(created.rtmps?.url).toBe(`rtmp://${host}:${server.app.ministream.live.rtmpPort}/live/`);
    expect(created.rtmps?.streamKey).toMatch(/^[0-9a-f]{32}k[0-9a-f]{32}$/);
    expect(created.rtmpsPlayback?.streamKey).toMatch(/^[0-9a-f]{32}k[0-9a-f]{32}$/);
    expect(created.rtmpsPlayback?.streamKey).not.toBe(created.rtmps?.streamKey);
    // SRT: the input's own port when srt-live-transmit is installed, else Cloudflare's 778 (nothing listens).
    const srtUrl = server.app.ministream.live.srtEnabled ? expect.stringMatching(new RegExp(`^srt://${host}:(?!778$)\\d+$`)) : `srt://${host}:778`;
    expect(created.srt).toMatchObject({ url: srtUrl, streamId: created.uid, passphrase: created.rtmps?.streamKey });
    expect(created.srtPlayback).toMatchObject({ url: srtUrl, passphrase: created.rtmpsPlayback?.streamKey });
    if (server.app.ministream.live.srtEnabled) expect(created.srtPlayback?.url).not.toBe(created.srt?.url);
    expect(created.webRTC?.url).toBe(`${server.url}/${created.rtmps?.streamKey}/webRTC/publish`);
    expect(created.webRTCPlayback?.url).toBe(`${server.url}/${created.uid}/webRTC/play`);
    expect(created.playback).toEqual({ hls: `${server.url}/${created.uid}/manifest/video.m3u8`, dash: `${server.url}/${created.uid}/manifest/video.mpd` });

    const got = await cf.stream.liveInputs.get(created.uid!, { account_id: account });
    expect(got).toEqual(created);
    expectSchema('GET', INPUT, '200', await rawJson(cf.stream.liveInputs.get(created.uid!, { account_id: account })));
    // Another account does not see it.
    await expect(cf.stream.liveInputs.get(created.uid!, { account_id: freshAccount() })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it('takes Cloudflare\'s defaults from an empty body', async () => {
    const account = freshAccount();
    const raw = await rawJson(cf.stream.liveInputs.create({ account_id: account }));
    expectSchema('POST', INPUTS, '200', raw);
    expect(raw.result).toMatchObject({ enabled: true, preferLowLatency: false, status: null, meta: {}, recording: { mode: 'off', timeoutSeconds: 0, requireSignedURLs: false, hideLiveViewerCount: false } });
    // Unset nullable fields are left out, as the SDK types them.
    expect(raw.result).not.toHaveProperty('deleteRecordingAfterDays');
    expect(raw.result.recording).not.toHaveProperty('allowedOrigins');
  });

  it('lists inputs as {liveInputs, range, total}, without credentials', async () => {
    const account = freshAccount();
    const a = await cf.stream.liveInputs.create({ account_id: account, meta: { name: 'a' } });
    const b = await cf.stream.liveInputs.create({ account_id: account, meta: { name: 'b' }, deleteRecordingAfterDays: 30 });
    const list = await cf.stream.liveInputs.list({ account_id: account, include_counts: true });
    expect(list.total).toBe(2);
    expect(list.range).toBe(2);
    expect(list.liveInputs?.map((i) => i.uid)).toEqual([b.uid, a.uid]);
    expect(list.liveInputs?.[0]).toEqual({ uid: b.uid, created: b.created, modified: b.modified, meta: { name: 'b' }, enabled: true, deleteRecordingAfterDays: 30 });
    expect(list.liveInputs?.[0]).not.toHaveProperty('rtmps');
    expectSchema('GET', INPUTS, '200', await rawJson(cf.stream.liveInputs.list({ account_id: account })));
    expect(await cf.stream.liveInputs.list({ account_id: freshAccount() })).toEqual({ liveInputs: [], range: 0, total: 0 });
  });

  it('updates with PUT: given fields change, omitted ones stay, null clears', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({
      account_id: account, meta: { name: 'x' }, defaultCreator: 'c', deleteRecordingAfterDays: 60,
      recording: { mode: 'automatic', allowedOrigins: ['a.example'] },
    });
    const updated = await cf.stream.liveInputs.update(input.uid!, { account_id: account, enabled: false, recording: { requireSignedURLs: true } });
    expect(updated).toMatchObject({ enabled: false, meta: { name: 'x' }, deleteRecordingAfterDays: 60, recording: { mode: 'automatic', requireSignedURLs: true, allowedOrigins: ['a.example'] } });
    expect(updated.rtmps?.streamKey).toBe(input.rtmps?.streamKey);
    expect(Date.parse(updated.modified!)).toBeGreaterThanOrEqual(Date.parse(input.modified!));
    const raw = await rawJson(cf.stream.liveInputs.update(input.uid!, { account_id: account, deleteRecordingAfterDays: null as unknown as number, meta: { name: 'y' } }));
    expectSchema('PUT', INPUT, '200', raw);
    expect(raw.result).not.toHaveProperty('deleteRecordingAfterDays');
    expect(raw.result.meta).toEqual({ name: 'y' });
    // Cloudflare's docs list timeoutSeconds at the top level; the schema puts it in recording. Both work.
    const res = await fetch(server.streamUrl(account, `/live_inputs/${input.uid}`), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutSeconds: 12 }) });
    expect(((await res.json()) as { result: { recording: { timeoutSeconds: number } } }).result.recording.timeoutSeconds).toBe(12);
  });

  it('refuses values outside the schema (400) and unknown inputs (404)', async () => {
    const account = freshAccount();
    const bad = [{ deleteRecordingAfterDays: 10 }, { recording: { mode: 'sometimes' } }, { recording: { timeoutSeconds: -1 } }, { enabled: 'yes' }];
    for (const body of bad) {
      const res = await fetch(server.streamUrl(account, '/live_inputs'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectSchema('POST', INPUTS, '4XX', await res.json());
    }
    const err = await cf.stream.liveInputs.get('0'.repeat(32), { account_id: account }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.NotFoundError);
    expectSchema('GET', INPUT, '4XX', (err as { error: unknown }).error);
  });

  it('deletes an input (empty 200, SDK void) and forgets it', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account });
    const res = await fetch(server.streamUrl(account, `/live_inputs/${input.uid}`), { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await expect(cf.stream.liveInputs.get(input.uid!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    await expect(cf.stream.liveInputs.delete(input.uid!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    const other = await cf.stream.liveInputs.create({ account_id: account });
    await cf.stream.liveInputs.delete(other.uid!, { account_id: account });
    expect((await cf.stream.liveInputs.list({ account_id: account })).total).toBe(0);
  });

  it('Idempotency-Key: the same key gives the same input; the key of a deleted input answers 409 without retries', async () => {
    const account = freshAccount();
    const first = await cf.stream.liveInputs.create({ account_id: account, meta: { name: 'once' }, 'Idempotency-Key': 'idem-1' });
    const again = await cf.stream.liveInputs.create({ account_id: account, meta: { name: 'once' }, 'Idempotency-Key': 'idem-1' });
    expect(again.uid).toBe(first.uid);
    expect((await cf.stream.liveInputs.list({ account_id: account })).total).toBe(1);
    // Keys are per account.
    const elsewhere = await cf.stream.liveInputs.create({ account_id: freshAccount(), 'Idempotency-Key': 'idem-1' });
    expect(elsewhere.uid).not.toBe(first.uid);
    // A different key makes a different input.
    expect((await cf.stream.liveInputs.create({ account_id: account, 'Idempotency-Key': 'idem-2' })).uid).not.toBe(first.uid);

    await cf.stream.liveInputs.delete(first.uid!, { account_id: account });
    const retrying = server.sdk({ maxRetries: 2 });
    const started = Date.now();
    const err = await retrying.stream.liveInputs.create({ account_id: account, 'Idempotency-Key': 'idem-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.ConflictError);
    expect((err as InstanceType<typeof Cloudflare.ConflictError>).headers.get('x-should-retry')).toBe('false');
    // The SDK did not retry (it waits about half a second before a retry).
    expect(Date.now() - started).toBeLessThan(400);
    expectSchema('POST', INPUTS, '4XX', (err as { error: unknown }).error);

    const tooLong = await fetch(server.streamUrl(account, '/live_inputs'), { method: 'POST', headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(tooLong.status).toBe(400);
  });
});

describe('live input outputs (SDK)', () => {
  it('creates, lists, enables/disables with PUT and deletes outputs', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account });
    const liveId = input.uid!;
    const raw = await rawJson(cf.stream.liveInputs.outputs.create(liveId, { account_id: account, url: 'rtmp://a.rtmp.youtube.com/live2', streamKey: 'sk' }));
    expectSchema('POST', OUTPUTS, '200', raw);
    const first = raw.result as { uid: string };
    expect(raw.result).toEqual({ uid: expect.stringMatching(/^[0-9a-f]{32}$/), url: 'rtmp://a.rtmp.youtube.com/live2', streamKey: 'sk', enabled: true });
    const second = await cf.stream.liveInputs.outputs.create(liveId, { account_id: account, url: 'srt://example.com:9000', streamKey: '', enabled: false });
    expect(second.enabled).toBe(false);

    const page = await cf.stream.liveInputs.outputs.list(liveId, { account_id: account });
    expect(page.result.map((o) => o.uid)).toEqual([first.uid, second.uid]);
    expectSchema('GET', OUTPUTS, '200', await rawJson(cf.stream.liveInputs.outputs.list(liveId, { account_id: account })));

    const updated = await rawJson(cf.stream.liveInputs.outputs.update(first.uid, { account_id: account, live_input_identifier: liveId, enabled: false }));
    expectSchema('PUT', OUTPUT, '200', updated);
    expect(updated.result.enabled).toBe(false);

    const res = await fetch(server.streamUrl(account, `/live_inputs/${liveId}/outputs/${second.uid}`), { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await cf.stream.liveInputs.outputs.delete(first.uid, { account_id: account, live_input_identifier: liveId });
    expect((await cf.stream.liveInputs.outputs.list(liveId, { account_id: account })).result).toEqual([]);
    await expect(cf.stream.liveInputs.outputs.delete(first.uid, { account_id: account, live_input_identifier: liveId })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it('refuses bad outputs: no url or key, a URL that is not RTMP(S)/SRT, enabled missing on update, an unknown input', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account });
    const post = (body: unknown) => fetch(server.streamUrl(account, `/live_inputs/${input.uid}/outputs`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const body of [{ url: 'rtmp://x/live' }, { streamKey: 'k' }, { url: 'https://example.com/live', streamKey: 'k' }]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expectSchema('POST', OUTPUTS, '4XX', await res.json());
    }
    const out = await cf.stream.liveInputs.outputs.create(input.uid!, { account_id: account, url: 'rtmps://live.example/app', streamKey: 'k' });
    const put = await fetch(server.streamUrl(account, `/live_inputs/${input.uid}/outputs/${out.uid}`), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(put.status).toBe(400);
    await expect(cf.stream.liveInputs.outputs.list('f'.repeat(32), { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    // Deleting the input deletes its outputs.
    await cf.stream.liveInputs.delete(input.uid!, { account_id: account });
    await expect(cf.stream.liveInputs.outputs.list(input.uid!, { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });
});

describe('around live delivery, without a broadcast', () => {
  it('an idle input has no videos, a 204 manifest, an idle lifecycle, and refuses WebRTC offers that are not SDP', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });
    const videos = await fetch(server.streamUrl(account, `/live_inputs/${input.uid}/videos`));
    expect(videos.status).toBe(200);
    expect(((await videos.json()) as { result: unknown[] }).result).toEqual([]);
    // Cloudflare's "Stream has not yet started": an empty 204, for HLS and DASH.
    expect((await fetch(input.playback!.hls)).status).toBe(204);
    expect((await fetch(input.playback!.dash)).status).toBe(204);
    const lifecycle = await fetch(`${server.url}/${input.uid}/lifecycle`);
    expect(await lifecycle.json()).toEqual({ isInput: true, videoUID: null, live: false });
    expect((await fetch(`${server.url}/${'0'.repeat(32)}/lifecycle`)).status).toBe(404);
    // An input that requires signed URLs: its uid is refused, a token for it (from /token, as for a video) is taken.
    const locked = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic', requireSignedURLs: true } });
    await cf.stream.keys.create({ account_id: account });
    const { token } = await cf.stream.token.create(locked.uid!, { account_id: account });
    expect((await fetch(`${server.url}/${locked.uid}/manifest/video.m3u8`)).status).toBe(401);
    expect((await fetch(`${server.url}/${token}/manifest/video.m3u8`)).status).toBe(204);
    expect(await (await fetch(`${server.url}/${token}/iframe`)).text()).toContain('Stream has not yet started');
    expect((await fetch(`${server.url}/${token!.slice(0, -4)}AAAA/manifest/video.m3u8`)).status).toBe(401);
    // WHEP follows the same rule: the uid is refused, the token passes (and finds nothing published yet).
    const whep = (key: string) => fetch(`${server.url}/${key}/webRTC/play`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n' });
    expect((await whep(locked.uid!)).status).toBe(401);
    expect((await whep(token!)).status).toBe(404);
    // WebRTC (tested end to end in webrtc.browser.test.ts): a body that is no SDP offer is refused, nothing is played yet.
    const whip = await fetch(input.webRTC!.url!, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0' });
    expect(whip.status).toBe(400);
    expect(((await whip.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/SDP offer/);
    const offer = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n';
    expect((await fetch(input.webRTCPlayback!.url!, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer })).status).toBe(404);
    expect((await fetch(`${server.url}/${'0'.repeat(65)}/webRTC/publish`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer })).status).toBe(404);
  });
});

describe('the live ladder and simulcast targets (pure)', () => {
  it('keeps the source and adds one lower rung, never upscaling, portrait sized by its width', () => {
    const sizes = (w: number, h: number) => planLiveLadder(w, h).map((r) => `${r.width}x${r.height}${r.copy ? ' copy' : ''}`);
    expect(sizes(1920, 1080)).toEqual(['1920x1080 copy', '640x360']);
    expect(sizes(1280, 720)).toEqual(['1280x720 copy', '640x360']);
    expect(sizes(640, 360)).toEqual(['640x360 copy', '426x240']);
    expect(sizes(720, 1280)).toEqual(['720x1280 copy', '360x640']);
    expect(sizes(320, 240)).toEqual(['320x240 copy']);
    // An encoder that sent no size: the source alone.
    expect(sizes(0, 0)).toEqual(['0x0 copy']);
  });

  it('joins an output\'s url and stream key as encoders do', () => {
    expect(outputTarget({ url: 'rtmp://a.rtmp.youtube.com/live2', streamKey: 'sk' })).toBe('rtmp://a.rtmp.youtube.com/live2/sk');
    expect(outputTarget({ url: 'rtmps://live.example/app/', streamKey: 'k' })).toBe('rtmps://live.example/app/k');
    expect(outputTarget({ url: 'srt://example.com:9000?streamid=x', streamKey: '' })).toBe('srt://example.com:9000?streamid=x');
  });
});
