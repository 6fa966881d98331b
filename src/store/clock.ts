// Identifiers and timestamps in Cloudflare's formats.
import { randomBytes } from 'node:crypto';

/** A Stream uid: 32 lowercase hex characters. */
export function newUid(): string {
  return randomBytes(16).toString('hex');
}

export const UID_PATTERN = /^[0-9a-f]{32}$/;

let lastMicros = 0;

/**
 * Now as RFC 3339 UTC with microseconds (Cloudflare's examples carry sub-second digits).
 * Strictly increasing within the process, so that `created` works as a paging cursor:
 * two videos never share a timestamp and `before=<last created>` never skips or repeats one.
 */
export function nowTimestamp(): string {
  let micros = Date.now() * 1000;
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  return formatMicros(micros);
}

export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2026-11-30T03:40:00.123Z
  const frac = String(micros % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** Parses any RFC 3339 date-time into the stored format (microsecond precision), or undefined. */
export function normalizeTimestamp(value: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  return formatMicros(ms * 1000 + Number(frac));
}

/** A timestamp `ms` milliseconds from now, in the stored format. */
export function timestampIn(ms: number): string {
  return formatMicros((Date.now() + ms) * 1000);
}
