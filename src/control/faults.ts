// Fault injection for tests (POST /_ministream/faults): a chosen status and/or delay, for a chosen
// method and route, with a probability and an optional count, so that apps can exercise their
// error handling and timeouts. Held in memory (a fault is a test's momentary wish; a restart or a
// full reset clears them). No HTTP here: src/routes/control/faults.ts applies them in an onRequest hook.
import { randomBytes } from 'node:crypto';
import { normalizePath } from './request-log.js';

export interface FaultSpec {
  /** HTTP method to match (any when absent). */
  method?: string;
  /**
   * Path pattern (any path when absent): `:name` or `{name}` stands for one path segment, `*` for
   * anything (slashes included); the whole path must match, the query string is ignored.
   * E.g. "/client/v4/accounts/:account_id/stream/:identifier" or "/client/v4/accounts/*".
   */
  route?: string;
  /** Status to answer with; absent: only delay the request, which then runs normally. */
  status?: number;
  /** Wait this long first (ms). */
  delayMs?: number;
  /** Chance (0..1) that a matching request is hit. */
  probability: number;
  /** Hit at most this many requests, then the fault is removed (unlimited when absent). */
  times?: number;
  /** JSON body to answer with instead of Cloudflare's failure envelope. */
  body?: unknown;
  /** Error code and message of the failure envelope (defaults follow the status). */
  code?: number;
  message?: string;
  /** Value of x-should-retry on 408/409/429/5xx answers (default false: the SDK gives up at once). */
  shouldRetry?: boolean;
}

export interface Fault extends FaultSpec {
  id: string;
  created: string;
  /** Requests hit so far. */
  hits: number;
  /** Hits left; null when unlimited. */
  remaining: number | null;
}

/** Paths that are never faulted: the control API itself must stay reachable. */
export const CONTROL_PREFIX = '/_ministream/';

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles a route pattern (see FaultSpec.route) to a regular expression over normalized paths. */
export function compileRoute(pattern: string): RegExp {
  const source = normalizePath(pattern)
    .split(/(\*|:[A-Za-z0-9_]+|\{[A-Za-z0-9_]+\})/)
    .map((part) => {
      if (part === '*') return '.*';
      if (/^:[A-Za-z0-9_]+$/.test(part) || /^\{[A-Za-z0-9_]+\}$/.test(part)) return '[^/]+';
      return escapeRegExp(part);
    })
    .join('');
  return new RegExp(`^${source}$`);
}

interface Entry {
  fault: Fault;
  route: RegExp | undefined;
}

export class FaultRegistry {
  private readonly entries: Entry[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): Fault {
    const fault: Fault = {
      ...spec,
      method: spec.method?.toUpperCase(),
      id: randomBytes(8).toString('hex'),
      created: new Date().toISOString(),
      hits: 0,
      remaining: spec.times ?? null,
    };
    this.entries.push({ fault, route: spec.route === undefined ? undefined : compileRoute(spec.route) });
    return fault;
  }

  list(): Fault[] {
    return this.entries.map((e) => ({ ...e.fault }));
  }

  remove(id: string): boolean {
    const i = this.entries.findIndex((e) => e.fault.id === id);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  clear(): number {
    return this.entries.splice(0).length;
  }

  /**
   * The fault that hits this request, if any: the first (oldest) one that matches and wins its
   * roll of the dice. A hit counts down `times`; a fault with none left is removed.
   */
  take(method: string, url: string): Fault | undefined {
    if (this.entries.length === 0) return undefined;
    const path = normalizePath(url);
    if (path.startsWith(CONTROL_PREFIX) || `${path}/` === CONTROL_PREFIX) return undefined;
    const m = method.toUpperCase();
    for (let i = 0; i < this.entries.length; i++) {
      const { fault, route } = this.entries[i]!;
      // A CORS preflight is hit only by a fault that names OPTIONS: `times: 1` is meant for the real call.
      if (fault.method === undefined ? m === 'OPTIONS' : fault.method !== m) continue;
      if (route && !route.test(path)) continue;
      if (fault.probability < 1 && this.random() >= fault.probability) continue;
      fault.hits += 1;
      if (fault.remaining !== null) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) this.entries.splice(i, 1);
      }
      return { ...fault };
    }
    return undefined;
  }
}
