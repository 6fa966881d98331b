// Webhook subscriptions (one per account) and the durable outbox of their deliveries, over SQLite.
// A delivery is written in the transaction that settles its video (see notifying-video-store.ts);
// the deliverer (src/transcode/webhook-deliverer.ts) reads due rows and records every attempt here.
import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';
import { nowTimestamp } from './clock.js';

export interface Webhook {
  accountId: string;
  notificationUrl: string;
  /** 32 hex characters; keys the HMAC-SHA256 of the Webhook-Signature header. */
  secret: string;
  modified: string;
}

/** The state a video entered: the only two that Stream notifies. */
export type WebhookEvent = 'ready' | 'error';
export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

export interface DeliveryRecord {
  id: number;
  accountId: string;
  videoUid: string;
  event: WebhookEvent;
  /** The subscription's URL and secret when the event happened. */
  url: string;
  secret: string;
  /** The exact bytes POSTed. */
  body: string;
  state: DeliveryState;
  attempts: number;
  /** Unix milliseconds. */
  nextAttemptAt: number;
  lastError: string | null;
  created: string;
  updated: string;
  finished: string | null;
}

export interface AttemptRecord {
  started: string;
  durationMs: number;
  /** The receiver's HTTP status; null when no answer came (network error, timeout). */
  statusCode: number | null;
  /** Why the attempt did not succeed; null on a 2xx. */
  error: string | null;
  outcome: AttemptOutcome;
}

export interface DeliveryWithAttempts extends DeliveryRecord {
  attemptLog: AttemptRecord[];
}

export interface DeliveryQuery {
  accountId?: string;
  videoUid?: string;
  state?: DeliveryState;
  /** Newest first, at most this many. */
  limit?: number;
}

export interface WebhookStore {
  get(accountId: string): Webhook | undefined;
  /** Creates the account's subscription or points it at a new URL. */
  put(accountId: string, notificationUrl: string): Webhook;
  /** Removes the subscription; its pending deliveries are given up. */
  delete(accountId: string): boolean;
  /** Writes a pending delivery, due at once (call it inside the transaction of the state change). */
  enqueue(hook: Webhook, videoUid: string, event: WebhookEvent, body: string): DeliveryRecord;
  /** Pending deliveries due at `now` (unix ms), oldest first, leaving out the ids in `skip`. */
  due(now: number, limit: number, skip: number[]): DeliveryRecord[];
  /** When the next pending delivery outside `skip` is due (unix ms), if any. */
  nextDueAt(skip: number[]): number | undefined;
  /** Logs an attempt and moves the delivery on: delivered, failed, or pending until `retryAt`. */
  recordAttempt(id: number, attempt: AttemptRecord, retryAt: number): void;
  listDeliveries(query: DeliveryQuery): DeliveryWithAttempts[];
}

// Columns under the names of the records above, so that rows come out as records.
const WEBHOOK_COLUMNS = 'account_id AS accountId, notification_url AS notificationUrl, secret, modified';
const DELIVERY_COLUMNS = `id, account_id AS accountId, video_uid AS videoUid, event, url, secret, body, state, attempts,
  next_attempt_at AS nextAttemptAt, last_error AS lastError, created, updated, finished`;
const ATTEMPT_COLUMNS = 'delivery_id AS deliveryId, started, duration_ms AS durationMs, status_code AS statusCode, error, outcome';

/** `id NOT IN` a JSON array bound as one parameter, so that one prepared statement serves any list. */
const NOT_SKIPPED = 'id NOT IN (SELECT value FROM json_each(?))';

/** Every statement of the store, prepared once. */
function prepareStatements(db: Db) {
  return {
    get: db.prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = ?`),
    // Deliberate choice (Cloudflare's docs do not say): updating the URL keeps the secret, so a
    // receiver that moves needs no new key; a new secret comes with a new subscription (after DELETE).
    put: db.prepare(
      `INSERT INTO webhooks (account_id, notification_url, secret, modified) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET notification_url = excluded.notification_url, modified = excluded.modified
       RETURNING ${WEBHOOK_COLUMNS}`,
    ),
    delete: db.prepare('DELETE FROM webhooks WHERE account_id = ?'),
    cancel: db.prepare(
      `UPDATE webhook_deliveries SET state = 'failed', last_error = 'the webhook subscription was deleted', updated = ?, finished = ?
        WHERE account_id = ? AND state = 'pending'`,
    ),
    enqueue: db.prepare(
      `INSERT INTO webhook_deliveries (account_id, video_uid, event, url, secret, body, next_attempt_at, created, updated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${DELIVERY_COLUMNS}`,
    ),
    due: db.prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? AND ${NOT_SKIPPED}
        ORDER BY next_attempt_at, id LIMIT ?`,
    ),
    nextDue: db.prepare(`SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE state = 'pending' AND ${NOT_SKIPPED}`),
    attempt: db.prepare(
      `INSERT INTO webhook_attempts (delivery_id, started, duration_ms, status_code, error, outcome) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    // A delivery cancelled meanwhile (subscription deleted) stays failed unless this attempt got through.
    advance: db.prepare(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, last_error = @error, updated = @now, next_attempt_at = @retryAt,
              state = CASE WHEN @outcome = 'delivered' THEN 'delivered'
                           WHEN state <> 'pending' THEN state
                           WHEN @outcome = 'failed' THEN 'failed' ELSE 'pending' END,
              finished = CASE WHEN @outcome = 'delivered' THEN @now
                              WHEN state <> 'pending' THEN finished
                              WHEN @outcome = 'failed' THEN @now ELSE NULL END
        WHERE id = @id`,
    ),
    attemptsOf: db.prepare(
      `SELECT ${ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY delivery_id, id`,
    ),
  };
}

export class SqliteWebhookStore implements WebhookStore {
  private readonly stmts: ReturnType<typeof prepareStatements>;
  private readonly recordTx: (id: number, attempt: AttemptRecord, retryAt: number) => void;

  constructor(private readonly db: Db) {
    this.stmts = prepareStatements(db);
    this.recordTx = db.transaction((id: number, a: AttemptRecord, retryAt: number) => {
      const now = nowTimestamp();
      // A delivery removed meanwhile (a reset, a deleted account's data) has nothing left to record.
      if (!this.db.prepare('SELECT 1 FROM webhook_deliveries WHERE id = ?').get(id)) return;
      this.stmts.attempt.run(id, a.started, a.durationMs, a.statusCode, a.error, a.outcome);
      this.stmts.advance.run({ id, error: a.error, now, outcome: a.outcome, retryAt });
    });
  }

  get(accountId: string): Webhook | undefined {
    return this.stmts.get.get(accountId) as Webhook | undefined;
  }

  put(accountId: string, notificationUrl: string): Webhook {
    const secret = randomBytes(16).toString('hex');
    return this.stmts.put.get(accountId, notificationUrl, secret, nowTimestamp()) as Webhook;
  }

  delete(accountId: string): boolean {
    return this.db.transaction(() => {
      const now = nowTimestamp();
      // Deliberate choice (Cloudflare's docs do not say): a removed subscription receives nothing
      // more, not even the retries of earlier events.
      this.stmts.cancel.run(now, now, accountId);
      return this.stmts.delete.run(accountId).changes > 0;
    })();
  }

  enqueue(hook: Webhook, videoUid: string, event: WebhookEvent, body: string): DeliveryRecord {
    const now = nowTimestamp();
    return this.stmts.enqueue.get(hook.accountId, videoUid, event, hook.notificationUrl, hook.secret, body, Date.now(), now, now) as DeliveryRecord;
  }

  due(now: number, limit: number, skip: number[]): DeliveryRecord[] {
    return this.stmts.due.all(now, JSON.stringify(skip), limit) as DeliveryRecord[];
  }

  nextDueAt(skip: number[]): number | undefined {
    const row = this.stmts.nextDue.get(JSON.stringify(skip)) as { at: number | null };
    return row.at ?? undefined;
  }

  recordAttempt(id: number, attempt: AttemptRecord, retryAt: number): void {
    this.recordTx(id, attempt, retryAt);
  }

  listDeliveries(q: DeliveryQuery): DeliveryWithAttempts[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const filters: [string, string | undefined][] = [
      ['account_id', q.accountId],
      ['video_uid', q.videoUid],
      ['state', q.state],
    ];
    for (const [column, value] of filters) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      args.push(value);
    }
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const deliveries = this.db.prepare(sql).all(...args, q.limit ?? 100) as DeliveryRecord[];
    const log = new Map<number, AttemptRecord[]>(deliveries.map((d) => [d.id, []]));
    for (const { deliveryId, ...attempt } of this.stmts.attemptsOf.all(JSON.stringify([...log.keys()])) as ({ deliveryId: number } & AttemptRecord)[]) {
      log.get(deliveryId)!.push(attempt);
    }
    return deliveries.map((d) => ({ ...d, attemptLog: log.get(d.id)! }));
  }
}
