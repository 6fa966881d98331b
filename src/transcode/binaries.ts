// Finds ffmpeg and ffprobe: FFMPEG_PATH / FFPROBE_PATH, else the system's (on PATH), else the binaries
// that `npm install` brought with @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { execFileSync } from 'node:child_process';

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

/** Resolves both tools once; the server calls this at start and logs which it uses. */
export function resolveMediaTools(env: NodeJS.ProcessEnv = process.env): MediaTools {
  return {
    ffmpeg: resolveOne('ffmpeg', 'FFMPEG_PATH', '@ffmpeg-installer/ffmpeg', env),
    ffprobe: resolveOne('ffprobe', 'FFPROBE_PATH', '@ffprobe-installer/ffprobe', env),
  };
}
