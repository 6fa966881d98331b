// Extra audio tracks over SQLite: one row per track, labels unique per video, at most one default.
// A track's files live in the video's media folder, audio/<track uid>/ (see audioTrackDir).
import { join } from 'node:path';
import { statementCache, type Statement, type Db } from './database.js';
import { UID_PATTERN, nowTimestamp } from './clock.js';

export const AUDIO_TRACK_STATUSES = ['queued', 'ready', 'error'] as const;
export type AudioTrackStatus = (typeof AUDIO_TRACK_STATUSES)[number];

export interface AudioTrackRecord {
  uid: string;
  accountId: string;
  videoUid: string;
  label: string;
  isDefault: boolean;
  status: AudioTrackStatus;
  /** Copies: where the track is fetched from. Uploads: null (the file is already in the track's folder). */
  sourceUrl: string | null;
  /** Why the track ended in error; for the log, not the API. */
  error: string | null;
  created: string;
  modified: string;
}

export type NewAudioTrack = Pick<AudioTrackRecord, 'uid' | 'accountId' | 'videoUid' | 'label' | 'sourceUrl'>;

export interface AudioTrackEdit {
  label?: string;
  /** true makes this the video's one default track (every other loses it); false just clears it. */
  isDefault?: boolean;
}

export interface AudioTrackStore {
  /** A video's tracks, oldest first. */
  list(videoUid: string): AudioTrackRecord[];
  get(videoUid: string, uid: string): AudioTrackRecord | undefined;
  byLabel(videoUid: string, label: string): AudioTrackRecord | undefined;
  /** A new track, `queued`, not the default. */
  add(track: NewAudioTrack): AudioTrackRecord;
  edit(videoUid: string, uid: string, edit: AudioTrackEdit): AudioTrackRecord | undefined;
  /** Moves a queued track to ready or error; false when it is gone or no longer queued. */
  finish(uid: string, status: 'ready' | 'error', error?: string): boolean;
  delete(videoUid: string, uid: string): boolean;
}

/** Folder of a video's extra audio tracks, inside its media folder. */
export const AUDIO_DIR = 'audio';

/** The folder of one track, given the video's media folder. Only ever built from a validated uid. */
export function audioTrackDir(videoDir: string, trackUid: string): string {
  if (!UID_PATTERN.test(trackUid)) throw new Error(`not a track uid: ${trackUid}`);
  return join(videoDir, AUDIO_DIR, trackUid);
}

interface Row {
  uid: string;
  account_id: string;
  video_uid: string;
  label: string;
  is_default: number;
  status: AudioTrackStatus;
  source_url: string | null;
  error: string | null;
  created: string;
  modified: string;
}

const fromRow = (r: Row): AudioTrackRecord => ({
  uid: r.uid,
  accountId: r.account_id,
  videoUid: r.video_uid,
  label: r.label,
  isDefault: r.is_default === 1,
  status: r.status,
  sourceUrl: r.source_url,
  error: r.error,
  created: r.created,
  modified: r.modified,
});

export class SqliteAudioTrackStore implements AudioTrackStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(private readonly db: Db) {
    this.sql = statementCache(db);
  }

  list(videoUid: string): AudioTrackRecord[] {
    return (this.sql('SELECT * FROM audio_tracks WHERE video_uid = ? ORDER BY created, uid').all(videoUid) as Row[]).map(fromRow);
  }

  get(videoUid: string, uid: string): AudioTrackRecord | undefined {
    const row = this.sql('SELECT * FROM audio_tracks WHERE video_uid = ? AND uid = ?').get(videoUid, uid) as Row | undefined;
    return row && fromRow(row);
  }

  byLabel(videoUid: string, label: string): AudioTrackRecord | undefined {
    const row = this.sql('SELECT * FROM audio_tracks WHERE video_uid = ? AND label = ?').get(videoUid, label) as Row | undefined;
    return row && fromRow(row);
  }

  add(t: NewAudioTrack): AudioTrackRecord {
    const now = nowTimestamp();
    const row = this.sql(
        `INSERT INTO audio_tracks (uid, account_id, video_uid, label, status, source_url, created, modified)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?) RETURNING *`,
      )
      .get(t.uid, t.accountId, t.videoUid, t.label, t.sourceUrl, now, now) as Row;
    return fromRow(row);
  }

  edit(videoUid: string, uid: string, edit: AudioTrackEdit): AudioTrackRecord | undefined {
    return this.db.transaction(() => {
      const now = nowTimestamp();
      if (edit.isDefault === true) {
        this.sql('UPDATE audio_tracks SET is_default = 0, modified = ? WHERE video_uid = ? AND is_default = 1 AND uid <> ?').run(now, videoUid, uid);
      }
      const row = this.sql(
          `UPDATE audio_tracks SET label = coalesce(?, label), is_default = coalesce(?, is_default), modified = ?
            WHERE video_uid = ? AND uid = ? RETURNING *`,
        )
        .get(edit.label ?? null, edit.isDefault === undefined ? null : edit.isDefault ? 1 : 0, now, videoUid, uid) as Row | undefined;
      return row && fromRow(row);
    })();
  }

  finish(uid: string, status: 'ready' | 'error', error?: string): boolean {
    return (
      this.sql("UPDATE audio_tracks SET status = ?, error = ?, modified = ? WHERE uid = ? AND status = 'queued'")
        .run(status, error ?? null, nowTimestamp(), uid).changes > 0
    );
  }

  delete(videoUid: string, uid: string): boolean {
    return this.sql('DELETE FROM audio_tracks WHERE video_uid = ? AND uid = ?').run(videoUid, uid).changes > 0;
  }
}
