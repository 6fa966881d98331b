// The durable job queue over SQLite. Job kinds are open-ended strings; each kind has a handler
// in src/transcode. Leasing is a single UPDATE, so two workers never take the same job.
import { statementCache, type Statement, type Db } from './database.js';
import { nowTimestamp } from './clock.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface JobRecord {
  id: number;
  kind: string;
  accountId: string;
  videoUid: string;
  payload: Record<string, unknown>;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  created: string;
  updated: string;
}

export interface NewJob {
  kind: string;
  accountId: string;
  videoUid: string;
  payload?: Record<string, unknown>;
  maxAttempts?: number;
}

export interface JobStore {
  enqueue(job: NewJob): JobRecord;
  /** Takes the oldest queued job of one of `kinds`, marking it running; undefined when none. */
  lease(kinds: string[]): JobRecord | undefined;
  complete(id: number): void;
  /** Records a failed attempt: queued again while attempts remain, else failed. Returns the new state. */
  fail(id: number, error: string, retry: boolean): JobState;
  /** Puts a running job back in the queue without counting the attempt (graceful stop). */
  requeue(id: number): void;
  /** At start: jobs that were running when the process died are queued again. */
  requeueRunning(): number;
  get(id: number): JobRecord | undefined;
  forVideo(uid: string): JobRecord[];
  /** Drops the queued jobs of a video (it was deleted). */
  cancelForVideo(uid: string): void;
}

interface Row {
  id: number;
  kind: string;
  account_id: string;
  video_uid: string;
  payload: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created: string;
  updated: string;
}

const fromRow = (r: Row): JobRecord => ({
  id: r.id,
  kind: r.kind,
  accountId: r.account_id,
  videoUid: r.video_uid,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  state: r.state,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  lastError: r.last_error,
  created: r.created,
  updated: r.updated,
});

export class SqliteJobStore implements JobStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  enqueue(job: NewJob): JobRecord {
    const now = nowTimestamp();
    const info = this.sql(
        `INSERT INTO jobs (kind, account_id, video_uid, payload, max_attempts, created, updated)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(job.kind, job.accountId, job.videoUid, JSON.stringify(job.payload ?? {}), job.maxAttempts ?? 3, now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  lease(kinds: string[]): JobRecord | undefined {
    if (kinds.length === 0) return undefined;
    const now = nowTimestamp();
    const row = this.sql(
        `UPDATE jobs SET state = 'running', attempts = attempts + 1, started = ?, updated = ?
          WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY id LIMIT 1)
          RETURNING *`,
      )
      .get(now, now, ...kinds) as Row | undefined;
    return row && fromRow(row);
  }

  complete(id: number): void {
    const now = nowTimestamp();
    this.sql("UPDATE jobs SET state = 'done', finished = ?, updated = ? WHERE id = ?").run(now, now, id);
  }

  fail(id: number, error: string, retry: boolean): JobState {
    const now = nowTimestamp();
    const row = this.sql(
        `UPDATE jobs SET last_error = ?, updated = ?,
                state = CASE WHEN ? AND attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                finished = CASE WHEN ? AND attempts < max_attempts THEN NULL ELSE ? END
          WHERE id = ? RETURNING state`,
      )
      .get(error.slice(0, 4000), now, retry ? 1 : 0, retry ? 1 : 0, now, id) as { state: JobState } | undefined;
    return row?.state ?? 'failed';
  }

  requeue(id: number): void {
    this.sql("UPDATE jobs SET state = 'queued', attempts = max(attempts - 1, 0), updated = ? WHERE id = ? AND state = 'running'")
      .run(nowTimestamp(), id);
  }

  requeueRunning(): number {
    return this.sql("UPDATE jobs SET state = 'queued', updated = ? WHERE state = 'running'").run(nowTimestamp()).changes;
  }

  get(id: number): JobRecord | undefined {
    const row = this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  forVideo(uid: string): JobRecord[] {
    return (this.sql('SELECT * FROM jobs WHERE video_uid = ? ORDER BY id').all(uid) as Row[]).map(fromRow);
  }

  cancelForVideo(uid: string): void {
    this.sql("DELETE FROM jobs WHERE video_uid = ? AND state = 'queued'").run(uid);
  }
}
