// VideoStore over SQLite (better-sqlite3, synchronous: every write is committed before the caller replies).
import type { Db } from './database.js';
import { newUid, nowTimestamp } from './clock.js';
import type {
  NewVideo,
  StorageUsage,
  VideoListQuery,
  VideoListResult,
  VideoPatch,
  VideoRecord,
  VideoState,
  VideoStore,
} from './video-types.js';

type Row = Record<string, string | number | null>;
type Field = keyof VideoRecord;

interface ColumnMap {
  column: string;
  toDb: (v: unknown) => string | number | null;
  fromDb: (v: string | number | null) => unknown;
}

const same = (v: unknown) => (v === undefined ? null : (v as string | number | null));
const asBool = (v: unknown) => (v ? 1 : 0);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const fromBool = (v: string | number | null) => v === 1;
const fromJson = (v: string | number | null) => (v === null ? null : JSON.parse(String(v)));
const plain = (v: string | number | null) => v;

/** Every VideoRecord field and the column that holds it. */
const COLUMNS: Record<Field, ColumnMap> = {
  accountId: { column: 'account_id', toDb: same, fromDb: plain },
  uid: { column: 'uid', toDb: same, fromDb: plain },
  created: { column: 'created', toDb: same, fromDb: plain },
  modified: { column: 'modified', toDb: same, fromDb: plain },
  uploaded: { column: 'uploaded', toDb: same, fromDb: plain },
  uploadExpiry: { column: 'upload_expiry', toDb: same, fromDb: plain },
  creator: { column: 'creator', toDb: same, fromDb: plain },
  meta: { column: 'meta', toDb: (v) => JSON.stringify(v ?? {}), fromDb: fromJson },
  type: { column: 'type', toDb: same, fromDb: plain },
  state: { column: 'state', toDb: same, fromDb: plain },
  pctComplete: { column: 'pct_complete', toDb: same, fromDb: plain },
  errorReasonCode: { column: 'error_reason_code', toDb: same, fromDb: plain },
  errorReasonText: { column: 'error_reason_text', toDb: same, fromDb: plain },
  readyToStream: { column: 'ready_to_stream', toDb: asBool, fromDb: fromBool },
  readyToStreamAt: { column: 'ready_to_stream_at', toDb: same, fromDb: plain },
  duration: { column: 'duration', toDb: same, fromDb: plain },
  inputWidth: { column: 'input_width', toDb: same, fromDb: plain },
  inputHeight: { column: 'input_height', toDb: same, fromDb: plain },
  size: { column: 'size', toDb: same, fromDb: plain },
  requireSignedURLs: { column: 'require_signed_urls', toDb: asBool, fromDb: fromBool },
  allowedOrigins: { column: 'allowed_origins', toDb: (v) => JSON.stringify(v ?? []), fromDb: fromJson },
  thumbnailTimestampPct: { column: 'thumbnail_timestamp_pct', toDb: same, fromDb: plain },
  maxDurationSeconds: { column: 'max_duration_seconds', toDb: same, fromDb: plain },
  maxSizeBytes: { column: 'max_size_bytes', toDb: same, fromDb: plain },
  scheduledDeletion: { column: 'scheduled_deletion', toDb: same, fromDb: plain },
  watermarkUid: { column: 'watermark_uid', toDb: same, fromDb: plain },
  liveInput: { column: 'live_input', toDb: same, fromDb: plain },
  clippedFrom: { column: 'clipped_from', toDb: same, fromDb: plain },
  publicDetails: { column: 'public_details', toDb: json, fromDb: fromJson },
  sourceFile: { column: 'source_file', toDb: same, fromDb: plain },
};

const FIELDS = Object.keys(COLUMNS) as Field[];
const SELECT_COLUMNS = FIELDS.map((f) => COLUMNS[f].column).join(', ');

const DEFAULTS: Omit<VideoRecord, 'accountId' | 'uid' | 'state' | 'created' | 'modified'> = {
  uploaded: null,
  uploadExpiry: null,
  creator: null,
  meta: {},
  type: 'vod',
  pctComplete: 0,
  errorReasonCode: '',
  errorReasonText: '',
  readyToStream: false,
  readyToStreamAt: null,
  duration: -1,
  inputWidth: -1,
  inputHeight: -1,
  size: 0,
  requireSignedURLs: false,
  allowedOrigins: [],
  thumbnailTimestampPct: 0,
  maxDurationSeconds: null,
  maxSizeBytes: null,
  scheduledDeletion: null,
  watermarkUid: null,
  liveInput: null,
  clippedFrom: null,
  publicDetails: null,
  sourceFile: null,
};

function fromRow(row: Row): VideoRecord {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = COLUMNS[f].fromDb(row[COLUMNS[f].column] ?? null);
  return out as unknown as VideoRecord;
}

/** States whose videos take storage: errored videos do not count (Cloudflare's pricing page). */
const BILLED_STATES: VideoState[] = ['pendingupload', 'downloading', 'queued', 'inprogress', 'ready', 'live-inprogress'];

export class SqliteVideoStore implements VideoStore {
  private readonly getStmt;
  private readonly findStmt;
  private readonly deleteStmt;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare(`SELECT ${SELECT_COLUMNS} FROM videos WHERE account_id = ? AND uid = ?`);
    this.findStmt = db.prepare(`SELECT ${SELECT_COLUMNS} FROM videos WHERE uid = ?`);
    this.deleteStmt = db.prepare('DELETE FROM videos WHERE account_id = ? AND uid = ?');
  }

  create(video: NewVideo): VideoRecord {
    const now = nowTimestamp();
    const record = { ...DEFAULTS, uid: newUid(), ...stripUndefined(video), created: now, modified: now } as VideoRecord;
    const cols = FIELDS.map((f) => COLUMNS[f].column);
    this.db
      .prepare(`INSERT INTO videos (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
      .run(...FIELDS.map((f) => COLUMNS[f].toDb(record[f])));
    return record;
  }

  get(accountId: string, uid: string): VideoRecord | undefined {
    const row = this.getStmt.get(accountId, uid) as Row | undefined;
    return row && fromRow(row);
  }

  findByUid(uid: string): VideoRecord | undefined {
    const row = this.findStmt.get(uid) as Row | undefined;
    return row && fromRow(row);
  }

  update(accountId: string, uid: string, patch: VideoPatch): VideoRecord | undefined {
    const fields = (Object.keys(patch) as Field[]).filter((f) => patch[f as keyof VideoPatch] !== undefined);
    const sets = [...fields.map((f) => `${COLUMNS[f].column} = ?`), 'modified = ?'];
    const values = [...fields.map((f) => COLUMNS[f].toDb(patch[f as keyof VideoPatch])), nowTimestamp()];
    const info = this.db
      .prepare(`UPDATE videos SET ${sets.join(', ')} WHERE account_id = ? AND uid = ?`)
      .run(...values, accountId, uid);
    return info.changes === 0 ? undefined : this.get(accountId, uid);
  }

  delete(accountId: string, uid: string): boolean {
    return this.deleteStmt.run(accountId, uid).changes > 0;
  }

  list(accountId: string, q: VideoListQuery): VideoListResult {
    const where: string[] = ['account_id = ?'];
    const args: (string | number)[] = [accountId];
    const inList = (column: string, values: string[]) => {
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      args.push(...values);
    };
    if (q.creator !== undefined) {
      where.push('creator = ?');
      args.push(q.creator);
    }
    if (q.states?.length) inList('state', q.states);
    if (q.type !== undefined) {
      where.push('type = ?');
      args.push(q.type);
    }
    if (q.search !== undefined) {
      // Partial, case-insensitive match on meta.name, as Cloudflare's `search`.
      where.push("lower(coalesce(name, '')) LIKE ? ESCAPE '\\'");
      args.push(`%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (q.videoName !== undefined) {
      where.push('name = ?');
      args.push(q.videoName);
    }
    if (q.uids?.length) inList('uid', q.uids);
    if (q.names?.length) {
      const marks = q.names.map(() => '?').join(', ');
      where.push(`(name IN (${marks}) OR uid IN (${marks}))`);
      args.push(...q.names, ...q.names);
    }
    if (q.liveInputId !== undefined) {
      where.push('live_input = ?');
      args.push(q.liveInputId);
    }
    const filterSql = where.join(' AND ');
    const filterArgs = [...args];
    if (q.after !== undefined) {
      where.push('created > ?');
      args.push(q.after);
    }
    if (q.before !== undefined) {
      where.push('created < ?');
      args.push(q.before);
    }
    const windowSql = where.join(' AND ');
    const limit = Math.min(Math.max(q.limit ?? 1000, 1), 1000);
    const rows = this.db
      .prepare(`SELECT ${SELECT_COLUMNS} FROM videos WHERE ${windowSql} ORDER BY created ${q.asc ? 'ASC' : 'DESC'} LIMIT ?`)
      .all(...args, limit) as Row[];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM videos WHERE ${filterSql}`).get(...filterArgs) as { n: number }).n;
    const range =
      q.after === undefined && q.before === undefined
        ? total
        : (this.db.prepare(`SELECT count(*) AS n FROM videos WHERE ${windowSql}`).get(...args) as { n: number }).n;
    return { videos: rows.map(fromRow), total, range };
  }

  dueForDeletion(now: string): VideoRecord[] {
    const rows = this.db
      .prepare(`SELECT ${SELECT_COLUMNS} FROM videos WHERE scheduled_deletion IS NOT NULL AND scheduled_deletion <= ?`)
      .all(now) as Row[];
    return rows.map(fromRow);
  }

  storageUsage(accountId: string, creator?: string): StorageUsage {
    const marks = BILLED_STATES.map(() => '?').join(', ');
    const row = this.db
      .prepare(
        `SELECT count(*) AS videoCount,
                coalesce(sum(CASE
                  WHEN duration >= 0 THEN ceil(duration)
                  WHEN state = 'pendingupload' THEN coalesce(max_duration_seconds, 0)
                  ELSE 0 END), 0) AS seconds
           FROM videos
          WHERE account_id = ? AND state IN (${marks}) ${creator === undefined ? '' : 'AND creator = ?'}`,
      )
      .get(accountId, ...BILLED_STATES, ...(creator === undefined ? [] : [creator])) as { videoCount: number; seconds: number };
    return { videoCount: row.videoCount, totalStorageMinutes: row.seconds / 60 };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
