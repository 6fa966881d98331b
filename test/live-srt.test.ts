// SRT end to end: ffmpeg pushes MPEG-TS over SRT (caller mode) to the `srt` URL, streamid and
// passphrase the SDK returned; the broadcast goes live and is recorded as over RTMP. A viewer plays
// it from `srtPlayback`. A wrong passphrase, a disabled and a deleted input are refused; an encoder
// killed mid-stream leaves a consistent state; an input keeps its ports across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Cloudflare from 'cloudflare';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { ffprobe } from '../src/transcode/ffmpeg.js';
import { parseMaster, parseMedia } from './helpers/hls.js';
import { pushClip, pushClipSrt, srtPushUrl, srtViewer } from './helpers/live.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

type LiveInput = Awaited<ReturnType<Cloudflare['stream']['liveInputs']['create']>>;
type Video = Awaited<ReturnType<Cloudflare['stream']['get']>>;

// SRT needs srt-live-transmit (Debian: srt-tools). Without it these tests skip, unless
// MINISTREAM_REQUIRE_SRT=1 (as in CI), where they must run.
const hasSrt = resolveMediaTools().srtLiveTransmit !== null;
if (!hasSrt && process.env.MINISTREAM_REQUIRE_SRT === '1') {
  throw new Error('MINISTREAM_REQUIRE_SRT=1 but srt-live-transmit is not installed (apt-get install srt-tools)');
}

let server: TestServer;
let cf: Cloudflare;
let work: string;

beforeAll(async () => {
  if (!hasSrt) return;
  server = await startTestServer({ encoding: 'fast', liveTimeoutSeconds: 1 });
  cf = server.sdk();
  work = mkdtempSync(join(tmpdir(), 'ministream-srt-test-'));
});
afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const statusOf = async (target: TestServer, input: LiveInput) =>
  ((await (await fetch(`${target.url}/_ministream/live_inputs/${input.uid}/status`)).json()) as {
    result: { status: string | null; connected: boolean; history: { status: string }[] };
  }).result;
const inputVideos = async (account: string, input: LiveInput) =>
  ((await (await fetch(server.streamUrl(account, `/live_inputs/${input.uid}/videos`))).json()) as { result: Video[] }).result;
const srtPort = (input: LiveInput) => Number(new URL(input.srt!.url!).port);

describe.skipIf(!hasSrt)('SRT ingest', () => {
  it('goes live from a push to the SRT URL the SDK returned, and records a ready video', async () => {
    const account = freshAccount();
    const response = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } }).asResponse();
    const created = (await response.json()) as { result: LiveInput };
    expectSchema('POST', '/accounts/{account_id}/stream/live_inputs', '200', created);
    const input = created.result;
    // Each input has its own port on this host (Cloudflare: one port, 778, for all; see README).
    expect(input.srt!.url).toMatch(/^srt:\/\/127\.0\.0\.1:\d+$/);
    expect(srtPort(input)).not.toBe(778);
    expect(input.srt!.streamId).toBe(input.uid);
    expect(input.srt!.passphrase).toMatch(/^[0-9a-f]{32}k[0-9a-f]{32}$/);
    const other = await cf.stream.liveInputs.create({ account_id: account });
    expect(srtPort(other)).not.toBe(srtPort(input));
    expect((await cf.stream.liveInputs.get(input.uid!, { account_id: account })).srt).toEqual(input.srt);

    const started = Date.now();
    const encoder = pushClipSrt(srtPushUrl(input.srt!), media('live.mp4'));
    const master = await waitFor(() => fetch(`${server.url}/${input.uid}/manifest/video.m3u8`), (r) => r.status === 200, 20_000, 100);
    console.log(`srt: first playable ${Date.now() - started} ms after the push started`);
    expect((await cf.stream.liveInputs.get(input.uid!, { account_id: account })).status).toBe('connected');
    const [live] = await inputVideos(account, input);
    expect(live).toMatchObject({ liveInput: input.uid, status: { state: 'live-inprogress' } });
    // The live ladder advances as over RTMP.
    const { variants } = parseMaster(await master.text());
    expect(variants.map((v) => v.resolution)).toEqual(['640x360', '426x240']);
    const playlist = async () => parseMedia(await (await fetch(`${server.url}/${input.uid}/manifest/${variants[0]!.uri}`)).text());
    const before = await playlist();
    const after = await waitFor(playlist, (p) => p.segments.length > before.segments.length, 10_000, 200);
    expect(after.ended).toBe(false);

    const pushed = await encoder.exited;
    expect(pushed.code, pushed.stderr).toBe(0);
    await waitFor(() => cf.stream.liveInputs.get(input.uid!, { account_id: account }), (i) => i.status === 'client_disconnect', 15_000, 100);
    const recording = await waitFor(() => cf.stream.get(live!.uid!, { account_id: account }), (v) => v.status?.state === 'ready' || v.status?.state === 'error', 30_000, 200);
    expect(recording.status?.state).toBe('ready');
    // The relay reads a fraction of a second of the stream before it republishes it; that part is kept.
    expect(recording.duration).toBeGreaterThan(6.5);
    expect(recording.duration).toBeLessThan(8.6);
    expect((await statusOf(server, input)).history.map((h) => h.status)).toEqual(['connected', 'client_disconnect']);
  });

  it('refuses a wrong passphrase and a disabled or deleted input; a killed encoder leaves a consistent state', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic', timeoutSeconds: 1 } });
    const wrong = await pushClipSrt(srtPushUrl(input.srt!, `${'0'.repeat(32)}k${'0'.repeat(32)}`), media('small.mp4')).exited;
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/srt|connection|error/i);

    await cf.stream.liveInputs.update(input.uid!, { account_id: account, enabled: false });
    const disabled = await pushClipSrt(srtPushUrl(input.srt!), media('small.mp4')).exited;
    expect(disabled.code).not.toBe(0);
    expect((await statusOf(server, input)).history).toEqual([]);
    expect(await inputVideos(account, input)).toEqual([]);

    // Enabled again, on the same port: a push goes live; killing the encoder ends the broadcast.
    const enabled = await cf.stream.liveInputs.update(input.uid!, { account_id: account, enabled: true });
    expect(enabled.srt).toEqual(input.srt);
    const encoder = pushClipSrt(srtPushUrl(input.srt!), media('live.mp4'));
    await waitFor(() => inputVideos(account, input), (v) => v[0]?.readyToStream === true, 20_000, 100);
    encoder.child.kill('SIGKILL');
    // SRT notices the silent peer after its idle timeout (5 s); the recording follows.
    await waitFor(() => cf.stream.liveInputs.get(input.uid!, { account_id: account }), (i) => i.status === 'client_disconnect', 20_000, 200);
    const [recording] = await waitFor(() => inputVideos(account, input), (v) => v[0]?.status?.state === 'ready', 30_000, 200);
    expect(recording!.duration).toBeGreaterThan(0.5);

    // A deleted input's port is closed.
    await cf.stream.liveInputs.delete(input.uid!, { account_id: account });
    const deleted = await pushClipSrt(srtPushUrl(input.srt!), media('small.mp4')).exited;
    expect(deleted.code).not.toBe(0);
  });

  it('plays a broadcast to an SRT viewer from srtPlayback, with the playback passphrase', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });
    expect(srtPort({ srt: input.srtPlayback } as LiveInput)).not.toBe(srtPort(input));
    expect(input.srtPlayback!.passphrase).toBe(input.rtmpsPlayback!.streamKey);
    // Pushed over RTMP, played over SRT.
    const encoder = pushClip(`${input.rtmps!.url}${input.rtmps!.streamKey}`, media('live.mp4'), { loop: true });
    await waitFor(() => statusOf(server, input), (s) => s.connected, 20_000, 100);
    const out = join(work, 'srt-viewer.ts');
    const viewer = await srtViewer(srtPushUrl(input.srtPlayback!), 3, out).exited;
    expect(viewer.code, viewer.stderr).toBe(0);
    const probe = await ffprobe(resolveMediaTools().ffprobe.path, out);
    expect(probe.streams.map((st) => st.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Number(probe.format.duration)).toBeGreaterThan(2);
    // The ingest passphrase does not open playback; the port takes a viewer again after one left.
    const wrong = await srtViewer(srtPushUrl(input.srtPlayback!, input.srt!.passphrase), 1, join(work, 'srt-wrong.ts')).exited;
    expect(wrong.code).not.toBe(0);
    const again = await srtViewer(srtPushUrl(input.srtPlayback!), 1, join(work, 'srt-again.ts')).exited;
    expect(again.code, again.stderr).toBe(0);
    encoder.child.kill('SIGKILL');
    await encoder.exited;
  });

  it('a reset cuts the encoder of an input it removes and closes its port', async () => {
    const account = freshAccount();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });
    const encoder = pushClipSrt(srtPushUrl(input.srt!), media('live.mp4'));
    await waitFor(() => statusOf(server, input), (s) => s.connected, 20_000, 100);
    const reset = await fetch(`${server.url}/_ministream/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account_id: account }) });
    expect(reset.status).toBe(200);
    // The encoder is cut well before its 8-s clip ends, and nothing listens on the port any more.
    const cut = Date.now();
    const pushed = await encoder.exited;
    expect(Date.now() - cut).toBeLessThan(7000);
    expect(pushed.code).not.toBe(0);
    // The RTMP side of the relay closes a moment after the SRT side.
    await waitFor(async () => server.app.ministream.live.isConnected(input.uid!), (on) => !on, 10_000, 50);
    const again = await pushClipSrt(srtPushUrl(input.srt!), media('small.mp4')).exited;
    expect(again.code).not.toBe(0);
  });

  it('keeps an input on its SRT ports across a restart', async () => {
    const dataDir = join(work, 'restart');
    let first: TestServer | undefined = await startTestServer({ encoding: 'fast', inMemory: false, dataDir });
    let second: TestServer | undefined;
    try {
      const account = freshAccount();
      const input = await first.sdk().stream.liveInputs.create({ account_id: account });
      await first.close();
      first = undefined;
      second = await startTestServer({ encoding: 'fast', inMemory: false, dataDir });
      const again = await second.sdk().stream.liveInputs.get(input.uid!, { account_id: account });
      expect(again.srt).toEqual(input.srt);
      expect(again.srtPlayback).toEqual(input.srtPlayback);
      const encoder = pushClipSrt(srtPushUrl(input.srt!), media('live.mp4'));
      const target = second;
      await waitFor(() => statusOf(target, input), (s) => s.connected, 20_000, 100);
      encoder.child.kill('SIGTERM');
      await encoder.exited;
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
