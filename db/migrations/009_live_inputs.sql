-- Live inputs (Stream Live): the inputs an encoder pushes to, their simulcast outputs, the history of
-- their connection status, and the Idempotency-Key records of their creation. A broadcast becomes a
-- row of `videos` (type 'live', live_input set): live-inprogress while it lasts, then a recording.
CREATE TABLE live_inputs (
  uid                         TEXT    NOT NULL PRIMARY KEY,
  account_id                  TEXT    NOT NULL,
  created                     TEXT    NOT NULL,
  modified                    TEXT    NOT NULL,
  meta                        TEXT    NOT NULL DEFAULT '{}', -- JSON object
  default_creator             TEXT,
  enabled                     INTEGER NOT NULL DEFAULT 1,
  delete_recording_after_days REAL,                          -- 30..1096, or NULL
  prefer_low_latency          INTEGER NOT NULL DEFAULT 0,
  recording_mode              TEXT    NOT NULL DEFAULT 'off', -- off | automatic
  recording_timeout_seconds   INTEGER NOT NULL DEFAULT 0,     -- 0: the platform default (--live-timeout)
  recording_require_signed_urls INTEGER NOT NULL DEFAULT 0,
  recording_allowed_origins   TEXT,                           -- JSON array, or NULL (not set)
  recording_hide_live_viewer_count INTEGER NOT NULL DEFAULT 0,
  stream_key                  TEXT    NOT NULL UNIQUE,        -- the secret an encoder pushes with (RTMP, SRT, WebRTC)
  playback_key                TEXT    NOT NULL UNIQUE,        -- the secret of rtmpsPlayback / srtPlayback
  status                      TEXT                            -- NULL while idle; connected, reconnected, client_disconnect, ...
);
CREATE INDEX live_inputs_account ON live_inputs (account_id, created);

-- Simulcast targets: while the input is live, each enabled output gets the stream re-pushed.
CREATE TABLE live_outputs (
  uid        TEXT    NOT NULL PRIMARY KEY,
  input_uid  TEXT    NOT NULL REFERENCES live_inputs (uid) ON DELETE CASCADE,
  account_id TEXT    NOT NULL,
  url        TEXT    NOT NULL,
  stream_key TEXT    NOT NULL,
  enabled    INTEGER NOT NULL DEFAULT 1,
  created    TEXT    NOT NULL
);
CREATE INDEX live_outputs_input ON live_outputs (input_uid, created);

-- Every status change of an input, oldest first: what the `status` field showed and when.
CREATE TABLE live_input_status_history (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  input_uid TEXT    NOT NULL REFERENCES live_inputs (uid) ON DELETE CASCADE,
  status    TEXT    NOT NULL,
  video_uid TEXT,                -- the broadcast's video, when the input records
  reason    TEXT,                -- why, for errors and refusals
  at        TEXT    NOT NULL
);
CREATE INDEX live_input_status_history_input ON live_input_status_history (input_uid, id);

-- Idempotency-Key of POST /live_inputs: per account, kept six hours after creation. It outlives
-- the input on purpose: reusing the key of a deleted input answers 409.
CREATE TABLE live_input_idempotency (
  account_id TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  input_uid  TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,   -- unix milliseconds
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;

-- GET /live_inputs/{id}/videos and GET /stream?live_input_id= read videos by input.
CREATE INDEX videos_live_input ON videos (live_input, created);
