// A real browser plays the iframe player: Debian's Chromium, hls.js from this server, our HLS.
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

  it('plays the video past 1 s on a valid hls.js level', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('hd.mp4'));
    const cf = server.sdk();
    await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 100);

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
});
