-- Uploads in flight: tus uploads, one-time direct creator upload URLs and copies from a URL.
-- A row lives as long as its video; `completed` is set once the last byte has landed.
CREATE TABLE uploads (
  uid           TEXT    NOT NULL PRIMARY KEY,
  account_id    TEXT    NOT NULL,
  kind          TEXT    NOT NULL, -- tus | tus-direct | direct | copy
  length        INTEGER,          -- tus: the declared Upload-Length
  source_url    TEXT,             -- copy: where the video is fetched from
  expires_at    TEXT    NOT NULL, -- after this an unfinished upload is abandoned and swept
  created       TEXT    NOT NULL,
  last_activity TEXT    NOT NULL,
  claimed       INTEGER NOT NULL DEFAULT 0, -- direct: a POST to the one-time URL is in flight or done
  completed     TEXT,
  FOREIGN KEY (account_id, uid) REFERENCES videos (account_id, uid) ON DELETE CASCADE
);
CREATE INDEX uploads_pending_expiry ON uploads (expires_at) WHERE completed IS NULL;
CREATE INDEX videos_scheduled_deletion ON videos (scheduled_deletion) WHERE scheduled_deletion IS NOT NULL;
