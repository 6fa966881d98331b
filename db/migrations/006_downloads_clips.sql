-- MP4 downloads (POST /stream/{uid}/downloads[/{type}]): one row per video and type. The file
-- itself lives in the video's media folder (downloads/default.mp4, downloads/audio.m4a) and goes
-- with it. `created` changes on every (re)creation: a download job carries it, so a job that
-- belongs to a deleted or re-created download never marks the new row.
-- Clips need no table: a clip is a video with clipped_from set (001) and a `clip` job (003).
CREATE TABLE downloads (
  account_id       TEXT NOT NULL,
  video_uid        TEXT NOT NULL,
  type             TEXT NOT NULL, -- default | audio
  status           TEXT NOT NULL, -- inprogress | ready | error
  percent_complete REAL NOT NULL DEFAULT 0,
  created          TEXT NOT NULL,
  updated          TEXT NOT NULL,
  PRIMARY KEY (video_uid, type),
  FOREIGN KEY (account_id, video_uid) REFERENCES videos (account_id, uid) ON DELETE CASCADE
) WITHOUT ROWID;
