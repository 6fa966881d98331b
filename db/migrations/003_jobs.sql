-- The durable job queue. A job row is written in the same transaction that marks its video
-- `queued`; workers lease jobs; a job left `running` by a crash is queued again at start.
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT    NOT NULL,            -- encode, and later: download, clip, caption, ...
  account_id    TEXT    NOT NULL,
  video_uid     TEXT    NOT NULL,
  payload       TEXT    NOT NULL DEFAULT '{}', -- JSON, kind-specific
  state         TEXT    NOT NULL DEFAULT 'queued', -- queued | running | done | failed
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL DEFAULT 3,
  last_error    TEXT,
  created       TEXT    NOT NULL,
  updated       TEXT    NOT NULL,
  started       TEXT,
  finished      TEXT
);
CREATE INDEX jobs_queued ON jobs (state, id);
CREATE INDEX jobs_video ON jobs (video_uid);
