// The request log for tests (GET /_ministream/requests): the last requests Ministream answered,
// in memory, in two bounded rings: the app's traffic, and Ministream's own (/_ministream/*,
// /healthz), so that a dashboard polling the control API or a health probe never pushes the app's
// requests out. No HTTP here: src/routes/control/requests.ts records and serves them.

export interface RequestEntry {
  /** Increasing with each request answered (across both rings). */
  id: number;
  /** When the request arrived (RFC 3339). */
  time: string;
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** The path without the query. */
  path: string;
  status: number;
  durationMs: number;
  /** The account of a /client/v4/accounts/:account_id/... path. */
  accountId: string | null;
  /** The id of the injected fault that answered or delayed it. */
  fault: string | null;
}

/** What the hook records per request: raw figures only; the rest is derived when the log is read. */
export interface RawRequest {
  /** When the request arrived (ms since the epoch). */
  startMs: number;
  method: string;
  url: string;
  status: number;
  durationMs: number;
  fault: string | null;
}

export interface RequestQuery {
  method?: string;
  pathPrefix?: string;
  status?: number;
  accountId?: string;
  /** Include Ministream's own requests (/_ministream/*, /healthz). */
  includeControl?: boolean;
  limit?: number;
}

/** A fixed-size ring: pushing past `capacity` drops the oldest entry. */
class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }

  clear(): void {
    this.items.length = 0;
    this.next = 0;
  }
}

const CONTROL_URL = /^\/(_ministream|healthz)(\/|\?|$)/;
const ACCOUNT_PATH = /^\/client\/v4\/accounts\/([^/]+)\//;

function accountOf(path: string): string | null {
  const raw = ACCOUNT_PATH.exec(path)?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The path of a URL: no query, no repeated or trailing slashes. */
export function normalizePath(url: string): string {
  const path = url.split('?')[0]!.replace(/\/{2,}/g, '/');
  return path.length > 1 ? path.replace(/\/$/, '') : path;
}

/** Ministream's own requests, kept apart: /_ministream/* and /healthz (query or not). */
export function isControlUrl(url: string): boolean {
  return CONTROL_URL.test(url);
}

function entryOf(id: number, raw: RawRequest): RequestEntry {
  const path = normalizePath(raw.url);
  const { startMs, ...rest } = raw;
  return { id, time: new Date(startMs).toISOString(), ...rest, path, accountId: accountOf(path) };
}

type Stored = { id: number; raw: RawRequest };

export class RequestLog {
  private readonly app: Ring<Stored>;
  private readonly control: Ring<Stored>;
  private lastId = 0;

  constructor(capacity = 1000, controlCapacity = 200) {
    this.app = new Ring(capacity);
    this.control = new Ring(controlCapacity);
  }

  get capacity(): number {
    return this.app.capacity;
  }

  /** Called once per answered request: kept cheap, everything else waits for list(). */
  record(raw: RawRequest): void {
    this.lastId += 1;
    (isControlUrl(raw.url) ? this.control : this.app).push({ id: this.lastId, raw });
  }

  /** Newest first, filtered. */
  list(query: RequestQuery = {}): RequestEntry[] {
    const all = query.includeControl ? [...this.app.toArray(), ...this.control.toArray()].sort((a, b) => a.id - b.id) : this.app.toArray();
    const method = query.method?.toUpperCase();
    const out: RequestEntry[] = [];
    const limit = query.limit ?? 100;
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const e = entryOf(all[i]!.id, all[i]!.raw);
      if (method !== undefined && e.method !== method) continue;
      if (query.pathPrefix !== undefined && !e.path.startsWith(query.pathPrefix)) continue;
      if (query.status !== undefined && e.status !== query.status) continue;
      if (query.accountId !== undefined && e.accountId !== query.accountId) continue;
      out.push(e);
    }
    return out;
  }

  clear(): void {
    this.app.clear();
    this.control.clear();
  }
}
