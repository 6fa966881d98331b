// Finds ffmpeg and ffprobe: FFMPEG_PATH / FFPROBE_PATH, else the system's (on PATH), else the binaries
// that `npm install` brought with @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe. Also
// Haivision's srt-live-transmit (Debian: srt-tools), which SRT ingest needs; no npm package ships it,
// so without it SRT is off and everything else works.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';

export type BinarySource = 'env' | 'system' | 'npm';

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
  /** First line of `-version`, e.g. "ffmpeg version 5.1.8-0+deb12u1". */
  version: string;
}

export interface MediaTools {
  ffmpeg: ResolvedBinary;
  ffprobe: ResolvedBinary;
  /** srt-live-transmit, or null when neither SRT_LIVE_TRANSMIT_PATH nor PATH has one. */
  srtLiveTransmit: ResolvedBinary | null;
}

const require = createRequire(import.meta.url);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fromNpm(pkg: string): string | undefined {
  try {
    const mod = require(pkg) as { path?: string };
    return mod.path && isExecutable(mod.path) ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

function versionOf(path: string): string {
  try {
    return execFileSync(path, ['-version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0]!.trim();
  } catch (err) {
    throw new Error(`${path} does not run: ${(err as Error).message}`);
  }
}

function resolveOne(name: 'ffmpeg' | 'ffprobe', envVar: string, pkg: string, env: NodeJS.ProcessEnv): ResolvedBinary {
  const fromEnv = env[envVar];
  if (fromEnv) return { path: fromEnv, source: 'env', version: versionOf(fromEnv) };
  const system = onPath(name, env);
  if (system) return { path: system, source: 'system', version: versionOf(system) };
  const bundled = fromNpm(pkg);
  if (bundled) return { path: bundled, source: 'npm', version: versionOf(bundled) };
  throw new Error(`${name} not found: set ${envVar}, install ffmpeg, or reinstall ${pkg}`);
}

/** srt-live-transmit prints its version on stderr ("SRT Library version: 1.5.1, ..."); null when it does not run. */
function srtVersionOf(path: string): string | null {
  const run = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 10_000 });
  if (run.error || run.status !== 0) return null;
  const line = `${run.stdout}\n${run.stderr}`.split('\n').find((l) => /version/i.test(l));
  return line?.trim() ?? 'srt-live-transmit';
}

function resolveSrtLiveTransmit(env: NodeJS.ProcessEnv): ResolvedBinary | null {
  const fromEnv = env.SRT_LIVE_TRANSMIT_PATH;
  const path = fromEnv || onPath('srt-live-transmit', env);
  if (!path) return null;
  const version = srtVersionOf(path);
  return version === null ? null : { path, source: fromEnv ? 'env' : 'system', version };
}

/** Resolves the tools once; the server calls this at start and logs which it uses. */
export function resolveMediaTools(env: NodeJS.ProcessEnv = process.env): MediaTools {
  return {
    ffmpeg: resolveOne('ffmpeg', 'FFMPEG_PATH', '@ffmpeg-installer/ffmpeg', env),
    ffprobe: resolveOne('ffprobe', 'FFPROBE_PATH', '@ffprobe-installer/ffprobe', env),
    srtLiveTransmit: resolveSrtLiveTransmit(env),
  };
}
