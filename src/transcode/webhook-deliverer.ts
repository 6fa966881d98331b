// Delivers the webhook outbox: POSTs each due delivery, signed as Stream signs it
// (`Webhook-Signature: time=<unix seconds>,sig1=<hex HMAC-SHA256 over "<time>.<body>">`), and
// records every attempt. 2xx: delivered, never sent again. 408, 429, 5xx, timeouts and network
// errors: retried with exponential backoff. Anything else: failed at once.
// At-least-once across restarts: a POST cut short by a stop or a crash is not recorded, so the
// delivery is still pending and is sent again at the next start.
import { createHmac } from 'node:crypto';
import { nowTimestamp } from '../store/clock.js';
import type { AttemptOutcome, DeliveryRecord, WebhookStore } from '../store/webhook-store.js';
import type { RunnerLog } from './job-runner.js';

export interface DelivererOptions {
  /** Delay before the first retry; each further retry doubles it (--webhook-retry-base-ms). */
  retryBaseMs: number;
  /** Longest delay between two attempts. */
  maxBackoffMs?: number;
  /** Attempts before a delivery is given up. */
  maxAttempts?: number;
  /** How long a receiver has to answer. */
  timeoutMs?: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
}

// Cloudflare publishes no retry policy for Stream webhooks; these are ours.
const DEFAULTS = { maxBackoffMs: 5 * 60_000, maxAttempts: 20, timeoutMs: 10_000, concurrency: 4 };

/** Look for due deliveries now and then even without a wake-up (retries fall due on their own). */
const IDLE_POLL_MS = 1000;

/** The `sig1` of a Webhook-Signature header. */
export function webhookSignature(secret: string, time: number, body: string): string {
  return createHmac('sha256', secret).update(`${time}.${body}`).digest('hex');
}

/** Delay after the `attempts`-th failed attempt: base, 2 base, 4 base, ... capped. */
export function backoffMs(attempts: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
}

/**
 * What a receiver's status means. Deliberate choice (Cloudflare does not say): a 3xx or a 4xx
 * other than 408/429 will not change by itself (wrong path, refused signature, redirect to https),
 * so it fails the delivery at once rather than after twenty attempts; the control endpoint shows it.
 */
export function outcomeOf(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'failed';
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message}: ${cause}` : e.message;
}

/** fetch() refuses URLs with credentials; they become Basic auth, as a browser would send them. */
function target(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return { url: u.href, authorization };
}

export class WebhookDeliverer {
  private readonly options: Required<DelivererOptions>;
  private readonly inFlight = new Map<number, Promise<void>>();
  private stopper = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly log: RunnerLog,
    options: DelivererOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Looks for due deliveries at once (a delivery was written, or one finished). */
  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  start(): void {
    this.stopper = new AbortController();
    this.loop = this.run();
  }

  /** Cuts the POSTs in flight (they stay pending, sent again at the next start) and ends the loop. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.notify();
    await this.loop;
    await Promise.all(this.inFlight.values());
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { concurrency } = this.options;
    while (!this.stopper.signal.aborted) {
      let wait = IDLE_POLL_MS;
      if (this.inFlight.size < concurrency) {
        const skip = [...this.inFlight.keys()];
        for (const delivery of this.store.due(Date.now(), concurrency - this.inFlight.size, skip)) this.launch(delivery);
        const next = this.inFlight.size < concurrency ? this.store.nextDueAt([...this.inFlight.keys()]) : undefined;
        if (next !== undefined) wait = Math.min(wait, Math.max(0, next - Date.now()));
      }
      await this.idle(wait);
    }
  }

  private launch(delivery: DeliveryRecord): void {
    const done = this.deliver(delivery)
      .catch((err: unknown) => this.log.error({ err, delivery: delivery.id }, 'webhook: delivery failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(delivery.id);
        this.notify();
      });
    this.inFlight.set(delivery.id, done);
  }

  private async deliver(d: DeliveryRecord): Promise<void> {
    const { timeoutMs, maxAttempts, retryBaseMs, maxBackoffMs } = this.options;
    const started = nowTimestamp();
    const startedMs = Date.now();
    const time = Math.floor(startedMs / 1000);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const { url, authorization } = target(d.url);
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-signature': `time=${time},sig1=${webhookSignature(d.secret, time, d.body)}`,
          'user-agent': 'Ministream-Webhook/1',
          ...(authorization ? { authorization } : {}),
        },
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.stopper.signal, AbortSignal.timeout(timeoutMs)]),
      });
      statusCode = res.status;
      await res.body?.cancel().catch(() => undefined); // the answer's body means nothing to Stream
    } catch (err) {
      if (this.stopper.signal.aborted) return; // stopped: not an attempt; still pending for the next start
      error = describe(err);
    }
    const attempts = d.attempts + 1;
    let outcome: AttemptOutcome = statusCode === null ? 'retry' : outcomeOf(statusCode);
    if (outcome === 'retry' && attempts >= maxAttempts) outcome = 'failed';
    if (statusCode !== null && outcome !== 'delivered') error = `HTTP ${statusCode}`;
    const retryAt = Date.now() + backoffMs(attempts, retryBaseMs, maxBackoffMs);
    this.store.recordAttempt(d.id, { started, durationMs: Date.now() - startedMs, statusCode, error, outcome }, retryAt);
    const fields = { delivery: d.id, uid: d.videoUid, event: d.event, url: d.url, attempt: attempts, statusCode, error, outcome };
    if (outcome === 'retry') this.log.warn(fields, 'webhook: attempt failed, will retry');
    else if (outcome === 'failed') this.log.warn(fields, 'webhook: delivery given up');
    else this.log.info(fields, 'webhook: delivered');
  }
}
