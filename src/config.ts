// One typed configuration module: every option is declared once in OPTIONS below, which drives
// the command-line parser, the environment twins (MINISTREAM_*) and `--help`. Flags win over env.
import { parseArgs } from 'node:util';
import { X264_PRESETS, type X264Preset } from './transcode/ladder.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** Folder holding the SQLite file and one folder per video. */
  dataDir: string;
  /** When true, dataDir is a temporary folder removed at exit. */
  inMemory: boolean;
  /** Origin put into returned URLs; undefined means "the request's own Host". */
  publicUrl: string | undefined;
  /** Accepted bearer tokens; empty means any credentials (or none) are accepted. */
  apiTokens: string[];
  logLevel: LogLevel;
  /** Largest basic (multipart) upload, in bytes. Cloudflare's limit is 200 MB. */
  maxBasicUploadBytes: number;
  /** Accept tus chunks of any size (Cloudflare: >= 5 MiB and a multiple of 256 KiB but the last). */
  lenientTusChunks: boolean;
  /** How often abandoned uploads and scheduled deletions are swept, in seconds. */
  sweepIntervalSeconds: number;
  /** full: the whole ladder; fast: one rendition, stream-copied when possible (for test suites). */
  encoding: 'full' | 'fast';
  /** libx264 preset of the ladder. */
  x264Preset: X264Preset;
  /** Encodes run at once (one ladder already keeps two cores busy). */
  encodeConcurrency: number;
  /** Delay before a failed webhook delivery is retried; it doubles with each attempt (capped at 5 minutes). */
  webhookRetryBaseMs: number;
  /** A folder whose media files are ingested as videos at start (once each); undefined: none. */
  seed: string | undefined;
  /** The account the --seed videos belong to. */
  seedAccount: string;
  /** RTMP ingest port of live inputs (0 picks a free one). */
  rtmpPort: number;
  /** Seconds a live input may stay disconnected before its broadcast ends, when recording.timeoutSeconds is 0. */
  liveTimeoutSeconds: number;
  /**
   * First UDP port of the SRT listeners, two per enabled live input (ingest and playback; 0: free
   * ports picked by the system, kept per input); null: no SRT.
   */
  srtPortBase: number | null;
}

type Kind = 'string' | 'number' | 'boolean' | 'list' | 'port-or-off';

interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  help: string;
  defaultText: string;
}

const OPTIONS: OptionSpec[] = [
  { key: 'port', flag: 'port', env: 'MINISTREAM_PORT', kind: 'number', defaultText: '8789', help: 'HTTP port (8787 is left to wrangler dev; 0 picks a free port)' },
  { key: 'host', flag: 'host', env: 'MINISTREAM_HOST', kind: 'string', defaultText: '127.0.0.1', help: 'Interface to listen on (0.0.0.0 in the Docker image)' },
  { key: 'dataDir', flag: 'data-dir', env: 'MINISTREAM_DATA_DIR', kind: 'string', defaultText: './.ministream', help: 'Folder for the SQLite store and media files' },
  { key: 'inMemory', flag: 'in-memory', env: 'MINISTREAM_IN_MEMORY', kind: 'boolean', defaultText: 'false', help: 'Use a temporary data folder, removed at exit' },
  { key: 'publicUrl', flag: 'public-url', env: 'MINISTREAM_PUBLIC_URL', kind: 'string', defaultText: "the request's Host", help: 'Origin used in returned URLs, e.g. http://ministream:8789' },
  { key: 'apiTokens', flag: 'api-token', env: 'MINISTREAM_API_TOKEN', kind: 'list', defaultText: 'any', help: 'Only accept this bearer token (repeatable; env: comma-separated)' },
  { key: 'logLevel', flag: 'log-level', env: 'MINISTREAM_LOG_LEVEL', kind: 'string', defaultText: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
  { key: 'lenientTusChunks', flag: 'lenient-tus-chunks', env: 'MINISTREAM_LENIENT_TUS_CHUNKS', kind: 'boolean', defaultText: 'false', help: "Accept tus chunks of any size (Cloudflare's rules are enforced by default)" },
  { key: 'sweepIntervalSeconds', flag: 'sweep-interval', env: 'MINISTREAM_SWEEP_INTERVAL', kind: 'number', defaultText: '60', help: 'Seconds between sweeps of abandoned uploads and scheduled deletions' },
  { key: 'encoding', flag: 'encoding', env: 'MINISTREAM_ENCODING', kind: 'string', defaultText: 'full', help: 'full (240p-1080p ladder) or fast (one rendition, stream-copied when possible)' },
  { key: 'x264Preset', flag: 'x264-preset', env: 'MINISTREAM_X264_PRESET', kind: 'string', defaultText: 'ultrafast', help: `libx264 preset: ${X264_PRESETS.join(', ')}` },
  { key: 'encodeConcurrency', flag: 'encode-concurrency', env: 'MINISTREAM_ENCODE_CONCURRENCY', kind: 'number', defaultText: '1', help: 'Encodes at once (one ladder already uses two cores)' },
  { key: 'webhookRetryBaseMs', flag: 'webhook-retry-base-ms', env: 'MINISTREAM_WEBHOOK_RETRY_BASE_MS', kind: 'number', defaultText: '1000', help: 'First webhook retry delay in ms, doubled per attempt up to 5 minutes' },
  { key: 'seed', flag: 'seed', env: 'MINISTREAM_SEED', kind: 'string', defaultText: 'none', help: 'Folder of media files (mp4, mov, mkv, webm...) ingested as videos at start, once each' },
  { key: 'seedAccount', flag: 'seed-account', env: 'MINISTREAM_SEED_ACCOUNT', kind: 'string', defaultText: 'seed', help: 'Account that the --seed videos belong to' },
  { key: 'rtmpPort', flag: 'rtmp-port', env: 'MINISTREAM_RTMP_PORT', kind: 'number', defaultText: '1935', help: 'RTMP port live inputs are pushed to (0 picks a free port)' },
  { key: 'srtPortBase', flag: 'srt-port-base', env: 'MINISTREAM_SRT_PORT_BASE', kind: 'port-or-off', defaultText: '7780', help: 'First UDP port of the SRT listeners, two per live input: push and play (0: free ports; off: no SRT)' },
  { key: 'liveTimeoutSeconds', flag: 'live-timeout', env: 'MINISTREAM_LIVE_TIMEOUT', kind: 'number', defaultText: '10', help: 'Seconds a disconnected live input may reconnect to the same broadcast (recording.timeoutSeconds 0)' },
  { key: 'maxBasicUploadBytes', flag: 'max-basic-upload-bytes', env: 'MINISTREAM_MAX_BASIC_UPLOAD_BYTES', kind: 'number', defaultText: '200000000', help: 'Largest basic upload (Cloudflare: 200 MB); larger gets 413' },
];

export const DEFAULTS: Config = {
  port: 8789,
  host: '127.0.0.1',
  dataDir: './.ministream',
  inMemory: false,
  publicUrl: undefined,
  apiTokens: [],
  logLevel: 'info',
  maxBasicUploadBytes: 200_000_000,
  lenientTusChunks: false,
  sweepIntervalSeconds: 60,
  encoding: 'full',
  x264Preset: 'ultrafast',
  encodeConcurrency: 1,
  webhookRetryBaseMs: 1000,
  seed: undefined,
  seedAccount: 'seed',
  rtmpPort: 1935,
  liveTimeoutSeconds: 10,
  srtPortBase: 7780,
};

const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {}

export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const flag = o.kind === 'boolean' ? `--${o.flag}` : `--${o.flag} <value>`;
    return `  ${flag.padEnd(34)} ${o.help}\n  ${''.padEnd(34)} env ${o.env}, default ${o.defaultText}`;
  });
  return [
    'Usage: ministream [options]',
    '',
    'A local emulator of the Cloudflare Stream API.',
    '',
    'Options (flags win over their environment twins):',
    ...rows,
    `  ${'--help'.padEnd(34)} Show this help`,
    '',
    'ffmpeg: FFMPEG_PATH / FFPROBE_PATH, else the system ffmpeg, else the one installed by npm.',
  ].join('\n');
}

function convert(spec: OptionSpec, raw: string | boolean | string[]): Config[keyof Config] {
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      return /^(1|true|yes|on)$/i.test(String(raw));
    case 'number': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--${spec.flag} must be a non-negative integer, got "${String(raw)}"`);
      return n;
    }
    case 'port-or-off': {
      if (/^off$/i.test(String(raw))) return null;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--${spec.flag} must be a port (0 to 65535) or off, got "${String(raw)}"`);
      return n;
    }
    case 'list': {
      const items = Array.isArray(raw) ? raw : String(raw).split(',');
      return items.map((s) => s.trim()).filter((s) => s.length > 0);
    }
    default:
      return String(raw);
  }
}

export interface ParsedArgs {
  config: Config;
  help: boolean;
}

/** Parse argv (without node and script) and an environment into a Config. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const o of OPTIONS) {
    parseOptions[o.flag] = { type: o.kind === 'boolean' ? 'boolean' : 'string', ...(o.kind === 'list' ? { multiple: true } : {}) };
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: parseOptions, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const config: Config = { ...DEFAULTS, apiTokens: [] };
  const target = config as unknown as Record<string, unknown>;
  for (const o of OPTIONS) {
    const fromFlag = values[o.flag];
    const fromEnv = env[o.env];
    if (fromFlag !== undefined) target[o.key] = convert(o, fromFlag as string | boolean | string[]);
    else if (fromEnv !== undefined && fromEnv !== '') target[o.key] = convert(o, fromEnv);
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (config.encoding !== 'full' && config.encoding !== 'fast') throw new ConfigError('--encoding must be full or fast');
  if (!(X264_PRESETS as readonly string[]).includes(config.x264Preset)) {
    throw new ConfigError(`--x264-preset must be one of ${X264_PRESETS.join(', ')}`);
  }
  if (config.encodeConcurrency < 1) throw new ConfigError('--encode-concurrency must be at least 1');
  if (config.webhookRetryBaseMs < 1) throw new ConfigError('--webhook-retry-base-ms must be at least 1');
  // Account ids in API paths are 1 to 32 characters (AccountParams).
  if (config.seedAccount.length < 1 || config.seedAccount.length > 32) throw new ConfigError('--seed-account must be 1 to 32 characters');
  if (config.publicUrl !== undefined) {
    try {
      const u = new URL(config.publicUrl);
      config.publicUrl = u.origin;
    } catch {
      throw new ConfigError(`--public-url must be an absolute URL, got "${config.publicUrl}"`);
    }
  }
  return { config, help: values.help === true };
}
