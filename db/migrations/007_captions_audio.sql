-- Captions (PUT/GET/DELETE /stream/{uid}/captions/{lang}, POST .../generate) and extra audio
-- tracks (/stream/{uid}/audio). Files live in the video's media folder (captions/<lang>.vtt,
-- audio/<track uid>/) and go with it; rows go with their video (ON DELETE CASCADE).
CREATE TABLE captions (
  account_id TEXT    NOT NULL,
  video_uid  TEXT    NOT NULL,
  language   TEXT    NOT NULL, -- canonical BCP 47 tag (Intl.getCanonicalLocales)
  label      TEXT    NOT NULL,
  generated  INTEGER NOT NULL DEFAULT 0,
  status     TEXT    NOT NULL, -- ready | inprogress | error
  created    TEXT    NOT NULL, -- changes on every (re)creation: a caption job carries it
  modified   TEXT    NOT NULL,
  PRIMARY KEY (video_uid, language),
  FOREIGN KEY (account_id, video_uid) REFERENCES videos (account_id, uid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE audio_tracks (
  uid        TEXT    NOT NULL PRIMARY KEY,
  account_id TEXT    NOT NULL,
  video_uid  TEXT    NOT NULL,
  label      TEXT    NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0,
  status     TEXT    NOT NULL, -- queued | ready | error
  source_url TEXT,             -- copies: where the track is fetched from; uploads: NULL
  error      TEXT,             -- why the track ended in error (logged, not in the API)
  created    TEXT    NOT NULL,
  modified   TEXT    NOT NULL,
  FOREIGN KEY (account_id, video_uid) REFERENCES videos (account_id, uid) ON DELETE CASCADE
);
CREATE UNIQUE INDEX audio_tracks_label ON audio_tracks (video_uid, label);
CREATE INDEX audio_tracks_video ON audio_tracks (video_uid, created);
