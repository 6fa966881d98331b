// Captions over SQLite: one row per video and language. The WebVTT text itself lives in the video's
// media folder, captions/<language>.vtt (see captionFile), and goes with the folder.
import { join } from 'node:path';
import { statementCache, type Statement, type Db } from './database.js';
import { nowTimestamp } from './clock.js';

export const CAPTION_STATUSES = ['ready', 'inprogress', 'error'] as const;
export type CaptionStatus = (typeof CAPTION_STATUSES)[number];

export interface CaptionRecord {
  accountId: string;
  videoUid: string;
  /** Canonical BCP 47 tag. */
  language: string;
  label: string;
  generated: boolean;
  status: CaptionStatus;
  /** Set anew on every (re)creation: a generate job names the caption it was started for by it. */
  created: string;
  modified: string;
}

export type NewCaption = Pick<CaptionRecord, 'accountId' | 'videoUid' | 'language' | 'label' | 'generated' | 'status'>;

export interface CaptionStore {
  /** A video's captions, by language. */
  list(videoUid: string): CaptionRecord[];
  get(videoUid: string, language: string): CaptionRecord | undefined;
  /** Creates the caption of a language, or replaces the one there (one caption per language). */
  put(caption: NewCaption): CaptionRecord;
  /**
   * Ends a generation: sets the status of the generated caption created at `created`, if it is
   * still that one and still in progress. False when it was deleted, replaced or uploaded over.
   */
  finishGenerated(videoUid: string, language: string, created: string, status: CaptionStatus): boolean;
  delete(videoUid: string, language: string): boolean;
}

/** Folder of a video's caption files, inside its media folder. */
export const CAPTIONS_DIR = 'captions';

/** The VTT file of a caption, given the video's media folder. Languages are validated tags: no path can leave the folder. */
export function captionFile(videoDir: string, language: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(language)) throw new Error(`not a language tag: ${language}`);
  return join(videoDir, CAPTIONS_DIR, `${language}.vtt`);
}

interface Row {
  account_id: string;
  video_uid: string;
  language: string;
  label: string;
  generated: number;
  status: CaptionStatus;
  created: string;
  modified: string;
}

const fromRow = (r: Row): CaptionRecord => ({
  accountId: r.account_id,
  videoUid: r.video_uid,
  language: r.language,
  label: r.label,
  generated: r.generated === 1,
  status: r.status,
  created: r.created,
  modified: r.modified,
});

export class SqliteCaptionStore implements CaptionStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  list(videoUid: string): CaptionRecord[] {
    return (this.sql('SELECT * FROM captions WHERE video_uid = ? ORDER BY language').all(videoUid) as Row[]).map(fromRow);
  }

  get(videoUid: string, language: string): CaptionRecord | undefined {
    const row = this.sql('SELECT * FROM captions WHERE video_uid = ? AND language = ?').get(videoUid, language) as Row | undefined;
    return row && fromRow(row);
  }

  put(c: NewCaption): CaptionRecord {
    const now = nowTimestamp();
    const row = this.sql(
        `INSERT INTO captions (account_id, video_uid, language, label, generated, status, created, modified)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (video_uid, language) DO UPDATE SET
           label = excluded.label, generated = excluded.generated, status = excluded.status,
           created = excluded.created, modified = excluded.modified
         RETURNING *`,
      )
      .get(c.accountId, c.videoUid, c.language, c.label, c.generated ? 1 : 0, c.status, now, now) as Row;
    return fromRow(row);
  }

  finishGenerated(videoUid: string, language: string, created: string, status: CaptionStatus): boolean {
    return (
      this.sql(
          `UPDATE captions SET status = ?, modified = ?
            WHERE video_uid = ? AND language = ? AND created = ? AND generated = 1 AND status = 'inprogress'`,
        )
        .run(status, nowTimestamp(), videoUid, language, created).changes > 0
    );
  }

  delete(videoUid: string, language: string): boolean {
    return this.sql('DELETE FROM captions WHERE video_uid = ? AND language = ?').run(videoUid, language).changes > 0;
  }
}
