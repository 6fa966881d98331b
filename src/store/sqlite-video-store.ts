// VideoStore over SQLite (better-sqlite3, synchronous: every write is committed before the caller replies).
import type Database from 'better-sqlite3';
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

/** A row as better-sqlite3 returns it in raw mode: the values of SELECT_COLUMNS, in order. */
type RawRow = (string | number | null)[];
type Field = keyof VideoRecord;

const same = (v: unknown) => (v === undefined ? null : (v as string | number | null));
const asBool = (v: unknown) => (v ? 1 : 0);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** Every VideoRecord field, the column that holds it and how a value is written to it. */
const COLUMNS: Record<Field, { column: string; toDb: (v: unknown) => string | number | null }> = {
  accountId: { column: 'account_id', toDb: same },
  uid: { column: 'uid', toDb: same },
  created: { column: 'created', toDb: same },
  modified: { column: 'modified', toDb: same },
  uploaded: { column: 'uploaded', toDb: same },
  uploadExpiry: { column: 'upload_expiry', toDb: same },
  creator: { column: 'creator', toDb: same },
  meta: { column: 'meta', toDb: (v) => JSON.stringify(v ?? {}) },
  type: { column: 'type', toDb: same },
  state: { column: 'state', toDb: same },
  pctComplete: { column: 'pct_complete', toDb: same },
  errorReasonCode: { column: 'error_reason_code', toDb: same },
  errorReasonText: { column: 'error_reason_text', toDb: same },
  readyToStream: { column: 'ready_to_stream', toDb: asBool },
  readyToStreamAt: { column: 'ready_to_stream_at', toDb: same },
  duration: { column: 'duration', toDb: same },
  inputWidth: { column: 'input_width', toDb: same },
  inputHeight: { column: 'input_height', toDb: same },
  size: { column: 'size', toDb: same },
  requireSignedURLs: { column: 'require_signed_urls', toDb: asBool },
  allowedOrigins: { column: 'allowed_origins', toDb: (v) => JSON.stringify(v ?? []) },
  thumbnailTimestampPct: { column: 'thumbnail_timestamp_pct', toDb: same },
  maxDurationSeconds: { column: 'max_duration_seconds', toDb: same },
  maxSizeBytes: { column: 'max_size_bytes', toDb: same },
  scheduledDeletion: { column: 'scheduled_deletion', toDb: same },
  watermarkUid: { column: 'watermark_uid', toDb: same },
  watermark: { column: 'watermark', toDb: json },
  liveInput: { column: 'live_input', toDb: same },
  clippedFrom: { column: 'clipped_from', toDb: same },
  publicDetails: { column: 'public_details', toDb: json },
  sourceFile: { column: 'source_file', toDb: same },
};

const FIELDS = Object.keys(COLUMNS) as Field[];
const SELECT_COLUMNS = FIELDS.map((f) => COLUMNS[f].column).join(', ');
/** Where each field stands in a RawRow. */
const AT = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<Field, number>;

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
  watermark: null,
  liveInput: null,
  clippedFrom: null,
  publicDetails: null,
  sourceFile: null,
};

const parseJson = (v: string | number | null | undefined) => (v === null || v === undefined ? null : JSON.parse(v as string));

/**
 * Written out field by field rather than looped over COLUMNS: it runs once per row of every read
 * (1000 times for a full list page), and a literal object is several times faster to build.
 */
function fromRow(r: RawRow): VideoRecord {
  return {
    accountId: r[AT.accountId] as string,
    uid: r[AT.uid] as string,
    created: r[AT.created] as string,
    modified: r[AT.modified] as string,
    uploaded: r[AT.uploaded] as string | null,
    uploadExpiry: r[AT.uploadExpiry] as string | null,
    creator: r[AT.creator] as string | null,
    meta: parseJson(r[AT.meta]),
    type: r[AT.type] as VideoRecord['type'],
    state: r[AT.state] as VideoState,
    pctComplete: r[AT.pctComplete] as number,
    errorReasonCode: r[AT.errorReasonCode] as string,
    errorReasonText: r[AT.errorReasonText] as string,
    readyToStream: r[AT.readyToStream] === 1,
    readyToStreamAt: r[AT.readyToStreamAt] as string | null,
    duration: r[AT.duration] as number,
    inputWidth: r[AT.inputWidth] as number,
    inputHeight: r[AT.inputHeight] as number,
    size: r[AT.size] as number,
    requireSignedURLs: r[AT.requireSignedURLs] === 1,
    allowedOrigins: parseJson(r[AT.allowedOrigins]),
    thumbnailTimestampPct: r[AT.thumbnailTimestampPct] as number,
    maxDurationSeconds: r[AT.maxDurationSeconds] as number | null,
    maxSizeBytes: r[AT.maxSizeBytes] as number | null,
    scheduledDeletion: r[AT.scheduledDeletion] as string | null,
    watermarkUid: r[AT.watermarkUid] as string | null,
    watermark: parseJson(r[AT.watermark]),
    liveInput: r[AT.liveInput] as string | null,
    clippedFrom: r[AT.clippedFrom] as string | null,
    publicDetails: parseJson(r[AT.publicDetails]),
    sourceFile: r[AT.sourceFile] as string | null,
  };
}

/** States whose videos take storage: errored videos do not count (Cloudflare's pricing page). */
const BILLED_STATES: VideoState[] = ['pendingupload', 'downloading', 'queued', 'inprogress', 'ready', 'live-inprogress'];

/** How many distinct SQL texts keep their prepared statement (list filters make many shapes). */
const STATEMENT_CACHE_SIZE = 64;
/** How many rows read by uid are kept in memory. */
const ROW_CACHE_SIZE = 1024;

type Statement = Database.Statement<unknown[], unknown>;

const INSERT_SQL = `INSERT INTO videos (${SELECT_COLUMNS}) VALUES (${FIELDS.map(() => '?').join(', ')})`;
const FIND_SQL = `SELECT ${SELECT_COLUMNS} FROM videos WHERE uid = ?`;

export class SqliteVideoStore implements VideoStore {
  /** Prepared statements by SQL text; those that return rows are in raw mode (arrays, not objects). */
  private readonly statements = new Map<string, Statement>();
  /**
   * Rows last read by uid. Between HTTP requests one SQLite read of a video costs 10-15 µs (cold CPU
   * caches and two file-lock syscalls, against 5 µs in a tight loop): most of a GET's own work.
   * A hit here is a Map lookup. It stays true to the database because every write to `videos` goes
   * through this class (keep it so) and drops the row's entry first, and because nothing is cached
   * inside a transaction, so a rollback cannot leave a row here that the database does not hold.
   */
  private readonly rows = new Map<string, RawRow>();

  constructor(private readonly db: Db) {}

  /** The prepared statement of `sql`, made once. Reading statements return RawRows. */
  private sql(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (stmt.reader) stmt.raw(true);
      SqliteVideoStore.remember(this.statements, sql, stmt, STATEMENT_CACHE_SIZE);
    }
    return stmt;
  }

  /** Adds an entry to a bounded map; once it holds `size` entries, the oldest goes. */
  private static remember<V>(map: Map<string, V>, key: string, value: V, size: number): void {
    if (map.size >= size) map.delete(map.keys().next().value!);
    map.set(key, value);
  }

  private rowByUid(uid: string): RawRow | undefined {
    let row = this.rows.get(uid);
    if (row === undefined) {
      row = this.sql(FIND_SQL).get(uid) as RawRow | undefined;
      if (row && !this.db.inTransaction) SqliteVideoStore.remember(this.rows, uid, row, ROW_CACHE_SIZE);
    }
    return row;
  }

  private count(where: string, args: unknown[]): number {
    return (this.sql(`SELECT count(*) FROM videos WHERE ${where}`).get(...args) as [number])[0];
  }

  create(video: NewVideo): VideoRecord {
    const now = nowTimestamp();
    const record = { ...DEFAULTS, uid: newUid(), ...stripUndefined(video), created: now, modified: now } as VideoRecord;
    this.rows.delete(record.uid);
    this.sql(INSERT_SQL).run(...FIELDS.map((f) => COLUMNS[f].toDb(record[f])));
    return record;
  }

  get(accountId: string, uid: string): VideoRecord | undefined {
    // A uid is unique across accounts (index videos_uid), so this is the row of (accountId, uid).
    const row = this.rowByUid(uid);
    return row && row[AT.accountId] === accountId ? fromRow(row) : undefined;
  }

  findByUid(uid: string): VideoRecord | undefined {
    const row = this.rowByUid(uid);
    return row && fromRow(row);
  }

  update(accountId: string, uid: string, patch: VideoPatch): VideoRecord | undefined {
    const fields = (Object.keys(patch) as Field[]).filter((f) => patch[f as keyof VideoPatch] !== undefined);
    const sets = [...fields.map((f) => `${COLUMNS[f].column} = ?`), 'modified = ?'];
    const values = [...fields.map((f) => COLUMNS[f].toDb(patch[f as keyof VideoPatch])), nowTimestamp()];
    this.rows.delete(uid);
    const info = this.sql(`UPDATE videos SET ${sets.join(', ')} WHERE account_id = ? AND uid = ?`).run(...values, accountId, uid);
    return info.changes === 0 ? undefined : this.get(accountId, uid);
  }

  delete(accountId: string, uid: string): boolean {
    this.rows.delete(uid);
    return this.sql('DELETE FROM videos WHERE account_id = ? AND uid = ?').run(accountId, uid).changes > 0;
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
    const rows = this.sql(`SELECT ${SELECT_COLUMNS} FROM videos WHERE ${windowSql} ORDER BY created ${q.asc ? 'ASC' : 'DESC'} LIMIT ?`).all(
      ...args,
      limit,
    ) as RawRow[];
    const cursor = q.after !== undefined || q.before !== undefined;
    // A page that is not full holds the whole window, so the window needs no count of its own.
    const range = rows.length < limit ? rows.length : this.count(windowSql, args);
    const total = cursor ? this.count(filterSql, filterArgs) : range;
    return { videos: rows.map(fromRow), total, range };
  }

  dueForDeletion(now: string): VideoRecord[] {
    const rows = this.sql(`SELECT ${SELECT_COLUMNS} FROM videos WHERE scheduled_deletion IS NOT NULL AND scheduled_deletion <= ?`).all(now) as RawRow[];
    return rows.map(fromRow);
  }

  storageUsage(accountId: string, creator?: string): StorageUsage {
    const marks = BILLED_STATES.map(() => '?').join(', ');
    const [videoCount, seconds] = this.sql(
      `SELECT count(*),
                coalesce(sum(CASE
                  WHEN duration >= 0 THEN ceil(duration)
                  WHEN state = 'pendingupload' THEN coalesce(max_duration_seconds, 0)
                  ELSE 0 END), 0)
           FROM videos
          WHERE account_id = ? AND state IN (${marks}) ${creator === undefined ? '' : 'AND creator = ?'}`,
    ).get(accountId, ...BILLED_STATES, ...(creator === undefined ? [] : [creator])) as [number, number];
    return { videoCount, totalStorageMinutes: seconds / 60 };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
