// MP4 downloads over SQLite: one row per video and download type (`default` MP4, `audio` M4A),
// with the status and progress that POST/GET /stream/{uid}/downloads report. The files live in
// the video's media folder (see downloadFile) and are made by the `download` job.
import { join } from 'node:path';
import { statementCache, type Statement, type Db } from './database.js';
import { nowTimestamp } from './clock.js';
import type { MediaStore } from './media-store.js';

export const DOWNLOAD_TYPES = ['default', 'audio'] as const;
export type DownloadType = (typeof DOWNLOAD_TYPES)[number];
export type DownloadStatus = 'inprogress' | 'ready' | 'error';

/** File names, as on Cloudflare's delivery paths /<uid>/downloads/default.mp4 and audio.m4a. */
export const DOWNLOAD_FILES: Record<DownloadType, string> = { default: 'default.mp4', audio: 'audio.m4a' };

/** Where a video's download of one type is kept: <media>/<uid>/downloads/<file>. */
export function downloadFile(media: MediaStore, uid: string, type: DownloadType): string {
  return join(media.videoDir(uid), 'downloads', DOWNLOAD_FILES[type]);
}

export interface DownloadRecord {
  accountId: string;
  videoUid: string;
  type: DownloadType;
  status: DownloadStatus;
  /** 0..100, a number (unlike the video's pctComplete string). */
  percentComplete: number;
  /** Set anew at every (re)creation: it tells a download's jobs apart from an earlier one's. */
  created: string;
  updated: string;
}

export interface DownloadPatch {
  status?: DownloadStatus;
  percentComplete?: number;
}

export interface DownloadStore {
  get(videoUid: string, type: DownloadType): DownloadRecord | undefined;
  list(videoUid: string): DownloadRecord[];
  /** Creates the download, or starts it again from scratch (status inprogress, 0 %). */
  start(accountId: string, videoUid: string, type: DownloadType): DownloadRecord;
  /** Updates the download made at `created`; false when it was deleted or re-created since. */
  progress(videoUid: string, type: DownloadType, created: string, patch: DownloadPatch): boolean;
  delete(videoUid: string, type: DownloadType): boolean;
}

interface Row {
  account_id: string;
  video_uid: string;
  type: DownloadType;
  status: DownloadStatus;
  percent_complete: number;
  created: string;
  updated: string;
}

const fromRow = (r: Row): DownloadRecord => ({
  accountId: r.account_id,
  videoUid: r.video_uid,
  type: r.type,
  status: r.status,
  percentComplete: r.percent_complete,
  created: r.created,
  updated: r.updated,
});

export class SqliteDownloadStore implements DownloadStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  get(videoUid: string, type: DownloadType): DownloadRecord | undefined {
    const row = this.sql('SELECT * FROM downloads WHERE video_uid = ? AND type = ?').get(videoUid, type) as Row | undefined;
    return row && fromRow(row);
  }

  list(videoUid: string): DownloadRecord[] {
    return (this.sql('SELECT * FROM downloads WHERE video_uid = ? ORDER BY type').all(videoUid) as Row[]).map(fromRow);
  }

  start(accountId: string, videoUid: string, type: DownloadType): DownloadRecord {
    const now = nowTimestamp();
    const row = this.sql(
        `INSERT INTO downloads (account_id, video_uid, type, status, percent_complete, created, updated)
         VALUES (?, ?, ?, 'inprogress', 0, ?, ?)
         ON CONFLICT (video_uid, type) DO UPDATE SET status = 'inprogress', percent_complete = 0, created = excluded.created, updated = excluded.updated
         RETURNING *`,
      )
      .get(accountId, videoUid, type, now, now) as Row;
    return fromRow(row);
  }

  progress(videoUid: string, type: DownloadType, created: string, patch: DownloadPatch): boolean {
    return (
      this.sql(
          `UPDATE downloads SET status = coalesce(?, status), percent_complete = coalesce(?, percent_complete), updated = ?
            WHERE video_uid = ? AND type = ? AND created = ?`,
        )
        .run(patch.status ?? null, patch.percentComplete ?? null, nowTimestamp(), videoUid, type, created).changes > 0
    );
  }

  delete(videoUid: string, type: DownloadType): boolean {
    return this.sql('DELETE FROM downloads WHERE video_uid = ? AND type = ?').run(videoUid, type).changes > 0;
  }
}
