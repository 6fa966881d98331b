// Which accounts hold data, with counts: the dashboard's overview. Accounts are not an entity of
// their own (any account id works and is created by its first write), so they are read from the
// tables that carry an account_id. Read-only; no HTTP.
import type { Db } from './database.js';

export interface AccountSummary {
  accountId: string;
  videos: number;
  /** Videos on their way: pendingupload, downloading, queued, inprogress. */
  inProgress: number;
  ready: number;
  errored: number;
  /** Signing keys the account created (not Ministream's own key). */
  keys: number;
  watermarks: number;
  webhook: boolean;
  deliveries: number;
  failedDeliveries: number;
  /** Live inputs, when a live_inputs table exists (0 otherwise). */
  liveInputs: number;
  /** The newest created/modified timestamp among the account's rows. */
  lastActivity: string | null;
}

export interface AccountDirectory {
  /** Every account with at least one row, by account id. */
  list(): AccountSummary[];
}

const BUSY_STATES = "('pendingupload', 'downloading', 'queued', 'inprogress')";

interface Row {
  accountId: string;
  videos: number | null;
  inProgress: number | null;
  ready: number | null;
  errored: number | null;
  keys: number | null;
  watermarks: number | null;
  webhook: number | null;
  deliveries: number | null;
  failedDeliveries: number | null;
  liveInputs: number | null;
  lastActivity: string | null;
}

export class SqliteAccountDirectory implements AccountDirectory {
  constructor(private readonly db: Db) {}

  /** Live inputs come with a later migration: counted only once their table exists. */
  private hasLiveInputs(): boolean {
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('live_inputs')").all() as { name: string }[];
    return columns.some((c) => c.name === 'account_id');
  }

  list(): AccountSummary[] {
    const live = this.hasLiveInputs();
    const rows = this.db
      .prepare(
        `WITH
          v AS (SELECT account_id, count(*) AS n,
                       sum(state IN ${BUSY_STATES}) AS busy, sum(state = 'ready') AS ready, sum(state = 'error') AS errored,
                       max(modified) AS at
                  FROM videos GROUP BY account_id),
          k AS (SELECT account_id, count(*) AS n, max(created) AS at FROM signing_keys WHERE own = 0 GROUP BY account_id),
          w AS (SELECT account_id, count(*) AS n, max(created) AS at FROM watermarks GROUP BY account_id),
          h AS (SELECT account_id, modified AS at FROM webhooks),
          d AS (SELECT account_id, count(*) AS n, sum(state = 'failed') AS failed, max(updated) AS at FROM webhook_deliveries GROUP BY account_id),
          l AS (${live ? 'SELECT account_id, count(*) AS n FROM live_inputs GROUP BY account_id' : 'SELECT NULL AS account_id, 0 AS n WHERE 0'}),
          ids AS (SELECT account_id FROM v UNION SELECT account_id FROM k UNION SELECT account_id FROM w
                  UNION SELECT account_id FROM h UNION SELECT account_id FROM d UNION SELECT account_id FROM l)
        SELECT ids.account_id AS accountId, v.n AS videos, v.busy AS inProgress, v.ready AS ready, v.errored AS errored,
               k.n AS keys, w.n AS watermarks, h.account_id IS NOT NULL AS webhook, d.n AS deliveries, d.failed AS failedDeliveries,
               l.n AS liveInputs,
               (SELECT max(at) FROM (SELECT v.at AS at UNION ALL SELECT k.at UNION ALL SELECT w.at UNION ALL SELECT h.at UNION ALL SELECT d.at)) AS lastActivity
          FROM ids
          LEFT JOIN v ON v.account_id = ids.account_id
          LEFT JOIN k ON k.account_id = ids.account_id
          LEFT JOIN w ON w.account_id = ids.account_id
          LEFT JOIN h ON h.account_id = ids.account_id
          LEFT JOIN d ON d.account_id = ids.account_id
          LEFT JOIN l ON l.account_id = ids.account_id
         ORDER BY ids.account_id`,
      )
      .all() as Row[];
    return rows.map((r) => ({
      accountId: r.accountId,
      videos: r.videos ?? 0,
      inProgress: r.inProgress ?? 0,
      ready: r.ready ?? 0,
      errored: r.errored ?? 0,
      keys: r.keys ?? 0,
      watermarks: r.watermarks ?? 0,
      webhook: r.webhook === 1,
      deliveries: r.deliveries ?? 0,
      failedDeliveries: r.failedDeliveries ?? 0,
      liveInputs: r.liveInputs ?? 0,
      lastActivity: r.lastActivity,
    }));
  }
}
