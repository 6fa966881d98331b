// Debian's Chromium driven by playwright-core (no browser download). Browser tests skip when no
// Chromium is installed, unless MINISTREAM_REQUIRE_BROWSER=1 (as in CI), where they must run.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasBrowser = existsSync(CHROMIUM_PATH);
export const browserRequired = process.env.MINISTREAM_REQUIRE_BROWSER === '1';

if (!hasBrowser && browserRequired) {
  throw new Error(`MINISTREAM_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);
}

/** `extraArgs`: more Chromium flags (a fake camera for WebRTC tests, say). */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // This machine's network is closed: without these flags Chromium keeps trying to phone home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required', ...extraArgs],
  });
}
