// A viewer watches a live input in the iframe player: Debian's Chromium, hls.js from this server,
// the live HLS ladder of a push in progress. Also measures the latency README.md quotes: how far
// behind the encoder the picture is (hls.js maps the playing position to wall-clock time through
// the playlists' EXT-X-PROGRAM-DATE-TIME, stamped when the frames reached Ministream).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { hasBrowser, launchBrowser } from './helpers/browser.js';
import { pushClip } from './helpers/live.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

type Player = {
  video: HTMLVideoElement;
  error: string | null;
  hls: { levels: { height: number }[]; latency: number } | null;
};

/** Waits until the page's player plays past `seconds` (or reports an error). */
function untilPlaying(page: Page, seconds: number, timeoutMs: number) {
  return page.waitForFunction(
    (after) => {
      const p = (window as unknown as { ministreamPlayer?: Player }).ministreamPlayer;
      return p?.error || (p && p.video.currentTime > after && !p.video.paused);
    },
    seconds,
    { timeout: timeoutMs },
  );
}

describe.skipIf(!hasBrowser)('live in the iframe player (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startTestServer({ encoding: 'fast', rtmpPort: 0, liveTimeoutSeconds: 1 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Opens the player, waits until it plays, then samples how far behind the encoder the picture is. */
  async function watch(url: string, pushStarted: number) {
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('pageerror', (e) => failures.push(String(e)));
    const opened = Date.now();
    await page.goto(url);
    await untilPlaying(page, 0, 30_000);
    const startupMs = Date.now() - opened;
    // The encoder pushes in real time (-re) from media time 0, and the player's timeline starts at the
    // broadcast's first frame: wall time since the push started, minus the position on screen, is how
    // far behind the encoder the picture is (it includes ffmpeg's own start-up, a few tens of ms).
    const samples: number[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const position = await page.evaluate(() => (window as unknown as { ministreamPlayer: Player }).ministreamPlayer.video.currentTime);
      samples.push(Date.now() - pushStarted - position * 1000);
    }
    const state = await page.evaluate(() => {
      const p = (window as unknown as { ministreamPlayer: Player }).ministreamPlayer;
      return { error: p.error, time: p.video.currentTime, paused: p.video.paused, levels: p.hls!.levels.map((l) => l.height), edge: p.hls!.latency };
    });
    await page.close();
    samples.sort((a, b) => a - b);
    return { failures, state, startupMs, behindMs: Math.round(samples[Math.floor(samples.length / 2)]!) };
  }

  it('plays a broadcast live by the input\'s uid, a few seconds behind the encoder', async () => {
    const account = freshAccount();
    const cf = server.sdk();
    const input = await cf.stream.liveInputs.create({ account_id: account, meta: { name: 'browser' }, recording: { mode: 'automatic' } });
    const pushStarted = Date.now();
    const encoder = pushClip(`${input.rtmps!.url}${input.rtmps!.streamKey}`, media('live.mp4'), { loop: true });
    try {
      // The broadcast's player exists once the encoder is connected; its manifest request waits for the first segment.
      await waitFor(() => cf.stream.liveInputs.get(input.uid!, { account_id: account }), (i) => i.status === 'connected', 20_000, 50);
      const early = await watch(`${server.url}/${input.uid}/iframe?autoplay=true&muted=true`, pushStarted);
      const firstFrameMs = Date.now() - pushStarted;
      // A viewer who joins a broadcast in progress (hls.js starts three segments back from the live edge).
      const late = await watch(`${server.url}/${input.uid}/iframe?autoplay=true&muted=true`, pushStarted);
      console.log(
        `live latency: picture ${early.behindMs} ms behind the encoder for a viewer there from the start ` +
          `(player playing ${early.startupMs} ms after opening), ${late.behindMs} ms for a viewer joining at ${Math.round(firstFrameMs / 1000)} s ` +
          `(hls.js ${late.state.edge.toFixed(1)} s behind the live edge)`,
      );
      for (const viewer of [early, late]) {
        expect(viewer.failures).toEqual([]);
        expect(viewer.state.error).toBeNull();
        expect(viewer.state.paused).toBe(false);
        expect(viewer.state.levels).toEqual([240, 360]);
        // 2-s segments and hls.js's default of three segments back from the live edge: well under 15 s.
        expect(viewer.behindMs).toBeGreaterThan(0);
        expect(viewer.behindMs).toBeLessThan(15_000);
      }
    } finally {
      encoder.child.kill('SIGKILL');
      await encoder.exited;
    }
  });

  it('an input\'s player opened before the broadcast says it has not started, then plays it', async () => {
    const account = freshAccount();
    const cf = server.sdk();
    const input = await cf.stream.liveInputs.create({ account_id: account, recording: { mode: 'automatic' } });
    // Nothing live yet: the manifest is Cloudflare's empty 204 and the player waits.
    expect((await fetch(`${server.url}/${input.uid}/manifest/video.m3u8`)).status).toBe(204);
    const page = await browser.newPage();
    await page.goto(`${server.url}/${input.uid}/iframe?autoplay=true&muted=true`);
    expect(await page.textContent('#waiting')).toBe('Stream has not yet started');
    const encoder = pushClip(`${input.rtmps!.url}${input.rtmps!.streamKey}`, media('live.mp4'), { loop: true });
    try {
      await untilPlaying(page, 1, 40_000);
      const state = await page.evaluate(() => {
        const p = (window as unknown as { ministreamPlayer: Player }).ministreamPlayer;
        return { error: p.error, waiting: document.getElementById('waiting') !== null };
      });
      expect(state).toEqual({ error: null, waiting: false });
    } finally {
      await page.close();
      encoder.child.kill('SIGKILL');
      await encoder.exited;
    }
  });
});
