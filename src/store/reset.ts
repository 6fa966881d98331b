// Reset (POST /_ministream/reset): deletes every row of every table, or one account's, and the
// media files that belonged to them, without a restart. Tables are discovered from sqlite_master,
// so tables added by later migrations (live inputs, ...) are reset too without touching this file:
//   - a full reset empties every table but schema_migrations;
//   - an account's reset deletes the rows whose `account_id` is the account's, the rows whose
//     `video_uid` names one of its videos, and rows left pointing (by foreign key) at deleted rows.
// Videos are deleted through the VideoStore, never by raw SQL, because SqliteVideoStore keeps a
// row cache that only its own writes keep true. AUTOINCREMENT counters are kept: a job that is
// still running when its row disappears must never find its id reused by a newer job.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './database.js';
import type { MediaStore } from './media-store.js';
import type { VideoStore } from './video-types.js';

export interface ResetSummary {
  /** The account reset, or null for everything. */
  accountId: string | null;
  /** Rows deleted per table (tables that lost none are left out). */
  deleted: Record<string, number>;
  /** Uids of the videos deleted (their folders are gone too). */
  videoUids: string[];
}

interface Column {
  name: string;
}

interface ForeignKey {
  table: string;
  from: string;
  to: string | null;
}

const KEPT_TABLES = new Set(['schema_migrations']);

/** Names are read from sqlite_master, so quoting them is all that is needed to splice them in. */
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function userTables(db: Db): string[] {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
  return rows.map((r) => r.name).filter((name) => !KEPT_TABLES.has(name));
}

function columnsOf(db: Db, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${q(table)})`).all() as Column[]).map((c) => c.name));
}

function countRows(db: Db, tables: string[]): Map<string, number> {
  return new Map(tables.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${q(t)}`).get() as { n: number }).n]));
}

/**
 * Deletes the rows of `table` that point at rows no longer present in their parent table. Each
 * column of a composite key is checked on its own: a weaker test than the whole key, so it never
 * removes a row whose parent is still there.
 */
function deleteOrphans(db: Db, table: string): void {
  for (const fk of db.prepare(`PRAGMA foreign_key_list(${q(table)})`).all() as ForeignKey[]) {
    const parentColumn = fk.to ?? 'rowid';
    db.prepare(
      `DELETE FROM ${q(table)} WHERE ${q(fk.from)} IS NOT NULL AND ${q(fk.from)} NOT IN (SELECT ${q(parentColumn)} FROM ${q(fk.table)})`,
    ).run();
  }
}

/** Removes every entry inside `dir` (the folder itself stays). */
async function emptyDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => rm(join(dir, e), { recursive: true, force: true })));
}

export async function resetStore(db: Db, videos: VideoStore, media: MediaStore, accountId?: string): Promise<ResetSummary> {
  const victims = (
    accountId === undefined
      ? db.prepare('SELECT account_id, uid FROM videos').all()
      : db.prepare('SELECT account_id, uid FROM videos WHERE account_id = ?').all(accountId)
  ) as { account_id: string; uid: string }[];
  const uidsJson = JSON.stringify(victims.map((v) => v.uid));
  // Watermark images belong to their profile; the account's are removed unless a remaining video
  // still holds a copy of the profile (which names the same image).
  const imagesOfAccount =
    accountId === undefined ? [] : (db.prepare('SELECT file FROM watermarks WHERE account_id = ?').all(accountId) as { file: string }[]).map((r) => r.file);

  const tables = userTables(db);
  const before = countRows(db, tables);
  let stillUsed = new Set<string>();
  db.transaction(() => {
    // Checked at commit, once every table has been emptied, whatever order they are visited in.
    db.pragma('defer_foreign_keys = ON');
    for (const v of victims) videos.delete(v.account_id, v.uid);
    for (const table of tables) {
      const columns = columnsOf(db, table);
      if (accountId === undefined) db.prepare(`DELETE FROM ${q(table)}`).run();
      else if (columns.has('account_id')) db.prepare(`DELETE FROM ${q(table)} WHERE account_id = ?`).run(accountId);
      else if (columns.has('video_uid')) db.prepare(`DELETE FROM ${q(table)} WHERE video_uid IN (SELECT value FROM json_each(?))`).run(uidsJson);
    }
    // Rows that belong to the account only through a parent row (ON DELETE CASCADE usually took them).
    if (accountId !== undefined) for (const table of tables) deleteOrphans(db, table);
    if (imagesOfAccount.length > 0) {
      const rows = db.prepare("SELECT json_extract(watermark, '$.file') AS file FROM videos WHERE watermark IS NOT NULL").all() as { file: string | null }[];
      stillUsed = new Set(rows.map((r) => r.file).filter((f): f is string => typeof f === 'string'));
    }
  })();
  const after = countRows(db, tables);

  // Files follow the rows: once a row is gone nothing can reach its files.
  if (accountId === undefined) {
    await Promise.all([emptyDir(media.root), emptyDir(media.tusDir), emptyDir(media.watermarksDir)]);
  } else {
    await Promise.all(victims.map((v) => media.removeVideo(v.uid)));
    await Promise.all(imagesOfAccount.filter((f) => !stillUsed.has(f)).map((f) => rm(join(media.watermarksDir, f), { force: true })));
  }

  const deleted: Record<string, number> = {};
  for (const table of tables) {
    const n = (before.get(table) ?? 0) - (after.get(table) ?? 0);
    if (n > 0) deleted[table] = n;
  }
  return { accountId: accountId ?? null, deleted, videoUids: victims.map((v) => v.uid) };
}
