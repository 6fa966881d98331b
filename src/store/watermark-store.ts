// Watermark profiles over SQLite; their images live under <data-dir>/watermarks/<uid>.<ext>.
import { statementCache, type Statement, type Db } from './database.js';

export const WATERMARK_POSITIONS = ['upperRight', 'upperLeft', 'lowerLeft', 'lowerRight', 'center'] as const;
export type WatermarkPosition = (typeof WATERMARK_POSITIONS)[number];

export interface WatermarkRecord {
  uid: string;
  accountId: string;
  name: string;
  created: string;
  downloadedFrom: string | null;
  size: number;
  width: number;
  height: number;
  opacity: number;
  padding: number;
  scale: number;
  position: WatermarkPosition;
  /** The image file name under the watermarks folder. */
  file: string;
}

export interface WatermarkStore {
  add(w: WatermarkRecord): void;
  get(accountId: string, uid: string): WatermarkRecord | undefined;
  list(accountId: string): WatermarkRecord[];
  delete(accountId: string, uid: string): boolean;
}

// Columns under the record's names, so that rows come out as WatermarkRecords.
const COLUMNS = `uid, account_id AS accountId, name, created, downloaded_from AS downloadedFrom, size, width, height,
  opacity, padding, scale, position, file`;

export class SqliteWatermarkStore implements WatermarkStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  add(w: WatermarkRecord): void {
    this.sql(
        `INSERT INTO watermarks (uid, account_id, name, created, downloaded_from, size, width, height, opacity, padding, scale, position, file)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(w.uid, w.accountId, w.name, w.created, w.downloadedFrom, w.size, w.width, w.height, w.opacity, w.padding, w.scale, w.position, w.file);
  }

  get(accountId: string, uid: string): WatermarkRecord | undefined {
    return this.sql(`SELECT ${COLUMNS} FROM watermarks WHERE account_id = ? AND uid = ?`).get(accountId, uid) as WatermarkRecord | undefined;
  }

  list(accountId: string): WatermarkRecord[] {
    return this.sql(`SELECT ${COLUMNS} FROM watermarks WHERE account_id = ? ORDER BY created`).all(accountId) as WatermarkRecord[];
  }

  delete(accountId: string, uid: string): boolean {
    return this.sql('DELETE FROM watermarks WHERE account_id = ? AND uid = ?').run(accountId, uid).changes > 0;
  }
}

/** The profile object as Cloudflare shows it, on the watermark routes and on videos. */
export function watermarkJson(w: WatermarkRecord) {
  return {
    uid: w.uid,
    name: w.name,
    size: w.size,
    height: w.height,
    width: w.width,
    created: w.created,
    downloadedFrom: w.downloadedFrom,
    opacity: w.opacity,
    padding: w.padding,
    scale: w.scale,
    position: w.position,
  };
}
export type WatermarkJson = ReturnType<typeof watermarkJson>;
