// Uploads in flight (tus, one-time direct upload URLs, copies from a URL), over SQLite.
import { statementCache, type Statement, type Db } from './database.js';
import { nowTimestamp } from './clock.js';

export type UploadKind = 'tus' | 'tus-direct' | 'direct' | 'copy';

export interface UploadRecord {
  uid: string;
  accountId: string;
  kind: UploadKind;
  length: number | null;
  sourceUrl: string | null;
  expiresAt: string;
  created: string;
  lastActivity: string;
  claimed: boolean;
  completed: string | null;
}

export interface NewUpload {
  uid: string;
  accountId: string;
  kind: UploadKind;
  expiresAt: string;
  length?: number | null;
  sourceUrl?: string | null;
}

export interface UploadStore {
  create(upload: NewUpload): UploadRecord;
  get(uid: string): UploadRecord | undefined;
  /** Records progress; a sliding expiry moves to `expiresAt` when given. */
  touch(uid: string, expiresAt?: string): void;
  /** Atomically claims a one-time URL; false if it was already claimed. */
  claim(uid: string): boolean;
  release(uid: string): void;
  complete(uid: string): void;
  /** Unfinished uploads whose expiry has passed, except one-time URLs with a POST in flight. */
  expired(now: string): UploadRecord[];
  /** At start: POSTs in flight died with the previous process, so their claims are void. */
  releaseStaleClaims(): void;
  /** Copies that were still downloading when the process stopped. */
  unfinished(kind: UploadKind): UploadRecord[];
}

interface Row {
  uid: string;
  account_id: string;
  kind: UploadKind;
  length: number | null;
  source_url: string | null;
  expires_at: string;
  created: string;
  last_activity: string;
  claimed: number;
  completed: string | null;
}

const fromRow = (r: Row): UploadRecord => ({
  uid: r.uid,
  accountId: r.account_id,
  kind: r.kind,
  length: r.length,
  sourceUrl: r.source_url,
  expiresAt: r.expires_at,
  created: r.created,
  lastActivity: r.last_activity,
  claimed: r.claimed === 1,
  completed: r.completed,
});

export class SqliteUploadStore implements UploadStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  create(u: NewUpload): UploadRecord {
    const now = nowTimestamp();
    this.sql(
        `INSERT INTO uploads (uid, account_id, kind, length, source_url, expires_at, created, last_activity)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(u.uid, u.accountId, u.kind, u.length ?? null, u.sourceUrl ?? null, u.expiresAt, now, now);
    return this.get(u.uid)!;
  }

  get(uid: string): UploadRecord | undefined {
    const row = this.sql('SELECT * FROM uploads WHERE uid = ?').get(uid) as Row | undefined;
    return row && fromRow(row);
  }

  touch(uid: string, expiresAt?: string): void {
    this.sql('UPDATE uploads SET last_activity = ?, expires_at = coalesce(?, expires_at) WHERE uid = ?')
      .run(nowTimestamp(), expiresAt ?? null, uid);
  }

  claim(uid: string): boolean {
    return this.sql('UPDATE uploads SET claimed = 1 WHERE uid = ? AND claimed = 0 AND completed IS NULL').run(uid).changes === 1;
  }

  release(uid: string): void {
    this.sql('UPDATE uploads SET claimed = 0 WHERE uid = ? AND completed IS NULL').run(uid);
  }

  complete(uid: string): void {
    const now = nowTimestamp();
    this.sql('UPDATE uploads SET completed = ?, last_activity = ? WHERE uid = ?').run(now, now, uid);
  }

  expired(now: string): UploadRecord[] {
    return (
      this.sql('SELECT * FROM uploads WHERE completed IS NULL AND claimed = 0 AND expires_at < ?').all(now) as Row[]
    ).map(fromRow);
  }

  releaseStaleClaims(): void {
    this.sql('UPDATE uploads SET claimed = 0 WHERE completed IS NULL AND claimed = 1').run();
  }

  unfinished(kind: UploadKind): UploadRecord[] {
    return (this.sql('SELECT * FROM uploads WHERE completed IS NULL AND kind = ?').all(kind) as Row[]).map(fromRow);
  }
}
