// A real browser plays the iframe player: Debian's Chromium, hls.js from this server, our HLS.
import { openAsBlob } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { hasBrowser, launchBrowser } from './helpers/browser.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

describe.skipIf(!hasBrowser)('the iframe player in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh account's video, uploaded and ready. */
  async function readyVideo(file: string) {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media(file));
    const cf = server.sdk();
    await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 100);
    return { account, uid, cf };
  }

  it('plays the video past 1 s on a valid hls.js level', async () => {
    const { uid } = await readyVideo('hd.mp4');

    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('pageerror', (e) => failures.push(String(e)));
    await page.goto(`${server.url}/${uid}/iframe?autoplay=true&muted=true`);
    await page.waitForFunction(
      () => {
        const p = (window as unknown as { ministreamPlayer?: { video: HTMLVideoElement; error: string | null } }).ministreamPlayer;
        return p?.error || (p && p.video.currentTime > 1);
      },
      undefined,
      { timeout: 30_000 },
    );
    const state = await page.evaluate(() => {
      const p = (window as unknown as { ministreamPlayer: { video: HTMLVideoElement; error: string | null; hls: { levels: { height: number }[]; currentLevel: number; loadLevel: number } } }).ministreamPlayer;
      return { error: p.error, time: p.video.currentTime, levels: p.hls.levels.map((l) => l.height), current: p.hls.currentLevel, load: p.hls.loadLevel };
    });
    expect(failures).toEqual([]);
    expect(state.error).toBeNull();
    expect(state.time).toBeGreaterThan(1);
    expect(state.levels).toEqual([240, 360, 480, 720]); // hls.js sorts levels by bitrate
    // A level hls.js actually switched to, among the ladder's.
    expect(state.current).toBeGreaterThanOrEqual(0);
    expect(state.current).toBeLessThan(state.levels.length);
    await page.close();
  });

  it('hls.js lists a caption as a subtitle track and an extra audio track as an alternate; the cue lands at its time', async () => {
    const { account, uid, cf } = await readyVideo('small.mp4');
    await cf.stream.captions.language.update('de', { account_id: account, identifier: uid, file: 'WEBVTT\n\n00:00.500 --> 00:01.500\nHallo\n' });
    const form = new FormData();
    form.append('label', 'Kommentar');
    form.append('file', await openAsBlob(media('tone.m4a')), 'tone.m4a');
    expect((await fetch(server.streamUrl(account, `/${uid}/audio`), { method: 'POST', body: form })).status).toBe(200);
    await waitFor(() => cf.stream.audioTracks.get(uid, { account_id: account }), (r) => r.audio?.[0]?.status === 'ready', 30_000, 100);

    type Player = {
      video: HTMLVideoElement;
      error: string | null;
      hls: {
        subtitleTracks: { name: string; lang?: string }[];
        audioTracks: { name: string }[];
        subtitleTrack: number;
        subtitleDisplay: boolean;
        audioTrack: number;
      } | null;
    };
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(String(e)));
    // defaultTextTrack=de: the player turns the German caption on by itself.
    await page.goto(`${server.url}/${uid}/iframe?muted=true&defaultTextTrack=de`);
    await page.waitForFunction(() => {
      const p = (window as unknown as { ministreamPlayer?: Player }).ministreamPlayer;
      return p?.error || (p?.hls && p.hls.audioTracks.length > 0 && p.hls.subtitleTracks.length > 0 && p.hls.subtitleTrack === 0);
    }, undefined, { timeout: 30_000 });
    const tracks = await page.evaluate(() => {
      const p = (window as unknown as { ministreamPlayer: Player }).ministreamPlayer;
      // The extra audio track chosen: hls.js fetches the VTT and the track's segments.
      p.hls!.audioTrack = p.hls!.audioTracks.findIndex((t) => t.name === 'Kommentar');
      return { error: p.error, display: p.hls!.subtitleDisplay, subtitles: p.hls!.subtitleTracks.map((t) => [t.name, t.lang]), audio: p.hls!.audioTracks.map((t) => t.name) };
    });
    expect(tracks.error).toBeNull();
    expect(tracks.display).toBe(true);
    expect(tracks.subtitles).toEqual([['Deutsch', 'de']]);
    expect(tracks.audio).toHaveLength(2);
    expect(tracks.audio).toContain('Kommentar');
    await page.waitForFunction(() => {
      const p = (window as unknown as { ministreamPlayer: Player }).ministreamPlayer;
      return p.error || [...p.video.textTracks].some((t) => (t.cues?.length ?? 0) > 0);
    }, undefined, { timeout: 30_000 });
    const cues = await page.evaluate(() => {
      const p = (window as unknown as { ministreamPlayer: Player }).ministreamPlayer;
      const track = [...p.video.textTracks].find((t) => (t.cues?.length ?? 0) > 0)!;
      return { error: p.error, cues: [...track.cues!].map((c) => [c.startTime, c.endTime, (c as VTTCue).text]) };
    });
    expect(cues.error).toBeNull();
    expect(cues.cues).toHaveLength(1);
    const [[start, end, text]] = cues.cues as [[number, number, string]];
    // Without X-TIMESTAMP-MAP the cue keeps its own time on our fMP4 timeline, which starts at 0.
    expect(start).toBeCloseTo(0.5, 1);
    expect(end).toBeCloseTo(1.5, 1);
    expect(text).toBe('Hallo');
    // ...and it plays on the alternate audio track.
    await page.evaluate(() => (window as unknown as { ministreamPlayer: Player }).ministreamPlayer.video.play());
    const played = await page.waitForFunction(() => {
      const p = (window as unknown as { ministreamPlayer: Player }).ministreamPlayer;
      return p.error ?? (p.video.currentTime > 1 && p.hls!.audioTrack >= 0 ? p.hls!.audioTracks[p.hls!.audioTrack]!.name : false);
    }, undefined, { timeout: 30_000 });
    expect(await played.jsonValue()).toBe('Kommentar');
    expect(failures).toEqual([]);
    await page.close();
  });

  it('defaultTextTrack with a bare language turns on a regional caption (en for en-US)', async () => {
    const { account, uid, cf } = await readyVideo('small.mp4');
    await cf.stream.captions.language.update('fr', { account_id: account, identifier: uid, file: 'WEBVTT\n\n00:00.500 --> 00:01.500\nBonjour\n' });
    await cf.stream.captions.language.update('en-US', { account_id: account, identifier: uid, file: 'WEBVTT\n\n00:00.500 --> 00:01.500\nHello\n' });
    const page = await browser.newPage();
    await page.goto(`${server.url}/${uid}/iframe?muted=true&defaultTextTrack=en`);
    const chosen = await page.waitForFunction(() => {
      const p = (window as unknown as { ministreamPlayer?: { error: string | null; hls: { subtitleTracks: { lang?: string }[]; subtitleTrack: number } | null } }).ministreamPlayer;
      if (p?.error) return p.error;
      const hls = p?.hls;
      return hls && hls.subtitleTrack >= 0 ? hls.subtitleTracks[hls.subtitleTrack]!.lang : false;
    }, undefined, { timeout: 30_000 });
    expect(await chosen.jsonValue()).toBe('en-US');
    await page.close();
  });
});
