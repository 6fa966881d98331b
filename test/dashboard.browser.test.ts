// The dashboard: pages over plain HTTP (empty server, hostile names, --api-token uploads), and in
// Debian's Chromium a file uploaded through the page's drop zone (tus-js-client in the browser),
// followed until ready, screenshotted, and played in the video page's player.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { resolveMediaTools } from '../src/transcode/binaries.js';
import { hasBrowser, launchBrowser } from './helpers/browser.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const DASHBOARD = '/_ministream/dashboard';
const HOSTILE_NAME = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
// At most 32 characters, as account ids are.
const HOSTILE_ACCOUNT = 'acc"><svg onload=alert(1)>';

const accountPath = (account: string) => `${DASHBOARD}/accounts/${encodeURIComponent(account)}`;

async function text(url: string): Promise<{ status: number; type: string; csp: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '', body: await res.text() };
}

interface VideoAnswer {
  result: { uid: string; meta: Record<string, unknown>; status: { state: string }; size: number; duration: number };
}

/** A video named by hand through the API, as an app would. */
async function nameVideo(server: TestServer, account: string, uid: string, name: string): Promise<void> {
  const res = await fetch(server.streamUrl(encodeURIComponent(account), `/${uid}`), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meta: { name } }),
  });
  expect(res.status).toBe(200);
}

describe('dashboard pages over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ encoding: 'fast' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GET / leads to the dashboard, whose pages render on an empty server', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe(DASHBOARD);

    const overview = await text(`${server.url}${DASHBOARD}`);
    expect(overview.status).toBe(200);
    expect(overview.type).toMatch(/^text\/html/);
    expect(overview.csp).toContain("script-src 'self'");
    expect(overview.body).toContain('No account holds data yet');
    const sections = (await (await fetch(`${server.url}/_ministream/dashboard/api/accounts`)).json()) as { busy: boolean; sections: Record<string, { key: string }[]> };
    expect(sections.busy).toBe(false);
    expect(sections.sections.accounts!.map((r) => r.key)).toEqual(['_empty']);

    // The form on the overview opens any account, even one without data.
    const account = freshAccount();
    const open = await fetch(`${server.url}${DASHBOARD}/open?account=${account}`, { redirect: 'manual' });
    expect(open.headers.get('location')).toBe(accountPath(account));
    const page = await text(`${server.url}${accountPath(account)}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="dropzone"');
    expect(page.body).toContain(`data-endpoint="/client/v4/accounts/${account}/stream"`);
    expect(page.body).toContain('No videos yet');

    const missing = await text(`${server.url}${accountPath(account)}/videos/${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^text\/html/);

    for (const [asset, type] of [['dashboard.css', 'text/css'], ['dashboard.js', 'application/javascript'], ['tus.min.js', 'application/javascript']]) {
      const res = await text(`${server.url}/_ministream/ui-assets/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.type).toContain(type);
    }
    // tus-js-client's browser bundle, from our own node_modules.
    expect((await text(`${server.url}/_ministream/ui-assets/tus.min.js`)).body).toContain('tus');
  });

  it('escapes hostile video names and account ids on every page and in the refresh JSON', async () => {
    const uid = await uploadVideo(server, encodeURIComponent(HOSTILE_ACCOUNT), media('small.mp4'));
    await nameVideo(server, HOSTILE_ACCOUNT, uid, HOSTILE_NAME);
    const overview = await text(`${server.url}${DASHBOARD}`);
    const account = await text(`${server.url}${accountPath(HOSTILE_ACCOUNT)}`);
    const video = await text(`${server.url}${accountPath(HOSTILE_ACCOUNT)}/videos/${uid}`);
    const json = await text(`${server.url}/_ministream/dashboard/api/accounts/${encodeURIComponent(HOSTILE_ACCOUNT)}`);
    for (const page of [overview, account, video]) {
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('<script>window');
      expect(page.body).not.toContain('<img src=x');
      expect(page.body).not.toContain('<svg');
    }
    expect(overview.body).toContain('acc&quot;&gt;&lt;svg onload=alert(1)&gt;');
    expect(account.body).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    expect(video.body).toContain('&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;');
    // The JSON carries HTML fragments: escaped there too.
    const fragments = JSON.stringify((JSON.parse(json.body) as { sections: unknown }).sections);
    expect(fragments).toContain(uid);
    expect(fragments).not.toContain('<script>window');
    expect(fragments).not.toContain('<svg');
  });

  it('with --api-token the drop zone creates uploads through the dashboard and the page reads videos without a token', async () => {
    const locked = await startTestServer({ encoding: 'fast', apiTokens: ['the-only-token'] });
    try {
      const account = freshAccount();
      const page = await text(`${locked.url}${accountPath(account)}`);
      const endpoint = `/_ministream/dashboard/api/accounts/${account}/tus`;
      expect(page.body).toContain(`data-endpoint="${endpoint}"`);
      // What tus-js-client does with that endpoint: a creation, then the chunks on the Location.
      const bytes = readFileSync(media('small.mp4'));
      const created = await fetch(`${locked.url}${endpoint}`, {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(bytes.length), 'Upload-Metadata': `name ${Buffer.from('locked.mp4').toString('base64')}` },
      });
      expect(created.status).toBe(201);
      const uid = created.headers.get('stream-media-id')!;
      const location = created.headers.get('location')!;
      expect(location).toBe(`${locked.url}/tus/${uid}?tusv2=true`);
      const patched = await fetch(location, {
        method: 'PATCH',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
        body: bytes,
      });
      expect(patched.status).toBe(204);
      // The API itself still wants the token; the dashboard's JSON does not.
      expect((await fetch(locked.streamUrl(account, `/${uid}`))).status).toBe(401);
      const ready = await waitFor(
        async () => (await (await fetch(`${locked.url}/_ministream/dashboard/api/accounts/${account}/videos/${uid}`)).json()) as VideoAnswer,
        (v) => v.result.status.state === 'ready',
        30_000,
        100,
      );
      expect(ready.result.meta.name).toBe('locked.mp4');
      expect(ready.result.size).toBe(bytes.length);
    } finally {
      await locked.close();
    }
  });
});

type DashboardWindow = {
  ministreamDashboard: { uploads: { name: string; uid: string | null; phase: string; progress: number[]; error: string | null }[] };
  ministreamPlayer?: { video: HTMLVideoElement; error: string | null };
  __pwned?: number;
};

describe.skipIf(!hasBrowser)('the dashboard in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let dir: string;
  let clip: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ministream-dashboard-'));
    // About 16 MB (four 5 MiB tus chunks) of 640x360 H.264 + AAC: noise keeps it from compressing.
    clip = join(dir, 'dashboard-clip.mp4');
    execFileSync(resolveMediaTools().ffmpeg.path, [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=3:size=640x360:rate=25,noise=alls=40:allf=t',
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '18',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', clip,
    ]);
    server = await startTestServer({ encoding: 'fast' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A page that collects what went wrong in it. */
  async function open(): Promise<{ page: Page; failures: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') failures.push(m.text());
    });
    page.on('dialog', (d) => {
      failures.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    return { page, failures };
  }

  it('uploads a file through the drop zone with tus, shows its progress and the ready video, and the video page plays it', async () => {
    const account = freshAccount();
    const size = statSync(clip).size;
    expect(size).toBeGreaterThan(15 * 1024 * 1024);
    const { page, failures } = await open();

    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe(DASHBOARD);
    await page.fill('#open-account', account);
    await page.click('form.open button');
    await page.waitForURL(`**${accountPath(account)}`);
    expect(await page.textContent('h1')).toBe(account);

    // The same tus code path as a drop: the drop zone's hidden <input type=file>.
    await page.setInputFiles('#file-input', clip);
    await page.waitForSelector('.upload[data-phase="ready"], .upload[data-phase="error"]', { timeout: 60_000 });
    const [upload] = await page.evaluate(() => (window as unknown as DashboardWindow).ministreamDashboard.uploads);
    expect(upload!.error).toBeNull();
    expect(upload!.phase).toBe('ready');
    const uid = upload!.uid!;
    expect(uid).toMatch(/^[0-9a-f]{32}$/);
    // Progress was shown as it went: several steps, never backwards, ending at 100 %.
    const progress = upload!.progress;
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(progress.some((p) => p > 0 && p < 100)).toBe(true);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(100);
    expect(await page.textContent('.upload .upload-status')).toMatch(/^Ready/);

    // What the API says about it: the whole file, named after it, ready.
    const video = await server.sdk().stream.get(uid, { account_id: account });
    expect(video.status?.state).toBe('ready');
    expect(video.meta).toMatchObject({ name: 'dashboard-clip.mp4' });
    expect(video.size).toBe(size);

    // The list refreshed itself: the row is there, ready, with its thumbnail.
    const row = `tr[data-key="${uid}"]`;
    await page.waitForSelector(`${row} .badge.s-ready`, { timeout: 10_000 });
    await page.waitForFunction((sel) => {
      const img = document.querySelector<HTMLImageElement>(`${sel} img`);
      return img !== null && img.complete && img.naturalWidth === 160;
    }, row, { timeout: 20_000 });
    // The card's player has loaded its first frame (for the screenshot).
    await page.frameLocator('.upload .player iframe').locator('video').waitFor();
    await page.waitForTimeout(500);
    const shot = join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    copyFileSync(shot, '/tmp/dashboard.png');

    // The video page: its player plays past 1 s.
    await page.click(`${row} a.strong`);
    await page.waitForURL(`**/videos/${uid}`);
    expect(await page.textContent('pre.json')).toContain(`"uid": "${uid}"`);
    const frame = await (await page.waitForSelector('#player iframe')).contentFrame();
    await frame!.waitForFunction(() => (window as unknown as DashboardWindow).ministreamPlayer !== undefined);
    await frame!.evaluate(() => (window as unknown as DashboardWindow).ministreamPlayer!.video.play());
    await frame!.waitForFunction(() => {
      const p = (window as unknown as DashboardWindow).ministreamPlayer!;
      return p.error || p.video.currentTime > 1;
    }, undefined, { timeout: 30_000 });
    const played = await frame!.evaluate(() => {
      const p = (window as unknown as DashboardWindow).ministreamPlayer!;
      return { error: p.error, time: p.video.currentTime };
    });
    expect(played.error).toBeNull();
    expect(played.time).toBeGreaterThan(1);
    expect(failures).toEqual([]);
    await page.close();
  });

  it('shows hostile names as text: nothing in them runs', async () => {
    const uid = await uploadVideo(server, encodeURIComponent(HOSTILE_ACCOUNT), media('small.mp4'));
    await nameVideo(server, HOSTILE_ACCOUNT, uid, HOSTILE_NAME);
    const { page, failures } = await open();
    for (const path of [DASHBOARD, accountPath(HOSTILE_ACCOUNT), `${accountPath(HOSTILE_ACCOUNT)}/videos/${uid}`]) {
      await page.goto(`${server.url}${path}`);
      // Long enough for a refresh of the sections to land as well.
      await page.waitForTimeout(1200);
      expect(await page.evaluate(() => (window as unknown as DashboardWindow).__pwned)).toBeUndefined();
      expect(await page.locator('main svg, main img[src="x"]').count()).toBe(0);
    }
    expect(await page.textContent('h1')).toContain(HOSTILE_NAME);
    expect(failures).toEqual([]);
    await page.close();
  });
});
