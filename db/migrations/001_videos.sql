-- Videos: one row per video, keyed by account. The uid is also unique on its own, because
-- delivery paths (/{uid}/manifest/video.m3u8, ...) name a video without its account.
CREATE TABLE videos (
  account_id              TEXT    NOT NULL,
  uid                     TEXT    NOT NULL,
  created                 TEXT    NOT NULL, -- RFC 3339 UTC with microseconds: sorts as text
  modified                TEXT    NOT NULL,
  uploaded                TEXT,
  upload_expiry           TEXT,
  creator                 TEXT,
  meta                    TEXT    NOT NULL DEFAULT '{}', -- JSON object
  name                    TEXT GENERATED ALWAYS AS (json_extract(meta, '$.name')) VIRTUAL,
  type                    TEXT    NOT NULL DEFAULT 'vod', -- vod | live
  state                   TEXT    NOT NULL,
  pct_complete            REAL    NOT NULL DEFAULT 0,
  error_reason_code       TEXT    NOT NULL DEFAULT '',
  error_reason_text       TEXT    NOT NULL DEFAULT '',
  ready_to_stream         INTEGER NOT NULL DEFAULT 0,
  ready_to_stream_at      TEXT,
  duration                REAL    NOT NULL DEFAULT -1,
  input_width             INTEGER NOT NULL DEFAULT -1,
  input_height            INTEGER NOT NULL DEFAULT -1,
  size                    INTEGER NOT NULL DEFAULT 0,
  require_signed_urls     INTEGER NOT NULL DEFAULT 0,
  allowed_origins         TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
  thumbnail_timestamp_pct REAL    NOT NULL DEFAULT 0,
  max_duration_seconds    INTEGER,
  max_size_bytes          INTEGER,
  scheduled_deletion      TEXT,
  watermark_uid           TEXT,
  live_input              TEXT,
  clipped_from            TEXT,
  public_details          TEXT, -- JSON object or NULL
  source_file             TEXT, -- the original upload, relative to the video's media folder
  PRIMARY KEY (account_id, uid)
) WITHOUT ROWID;

CREATE UNIQUE INDEX videos_uid ON videos (uid);
CREATE INDEX videos_account_created ON videos (account_id, created);
CREATE INDEX videos_account_creator ON videos (account_id, creator);
