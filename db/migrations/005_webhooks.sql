-- Webhooks: one subscription per account (PUT /stream/webhook) and a durable outbox of deliveries.
-- A delivery row is written in the same transaction that moves its video into `ready` or `error`,
-- so no event is lost to a crash; the deliverer POSTs due rows and records every attempt.
CREATE TABLE webhooks (
  account_id       TEXT NOT NULL PRIMARY KEY,
  notification_url TEXT NOT NULL,
  secret           TEXT NOT NULL,          -- 32 hex characters: the HMAC key of Webhook-Signature
  modified         TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id      TEXT    NOT NULL,
  video_uid       TEXT    NOT NULL,
  event           TEXT    NOT NULL,        -- the state the video entered: ready | error
  url             TEXT    NOT NULL,        -- the subscription's URL when the event happened
  secret          TEXT    NOT NULL,        -- ...and its secret, which signs every attempt
  body            TEXT    NOT NULL,        -- the exact bytes sent (the video object as JSON)
  state           TEXT    NOT NULL DEFAULT 'pending', -- pending | delivered | failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,        -- unix milliseconds
  last_error      TEXT,
  created         TEXT    NOT NULL,
  updated         TEXT    NOT NULL,
  finished        TEXT                     -- when it was delivered or given up
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, id);
CREATE INDEX webhook_deliveries_video ON webhook_deliveries (video_uid);

CREATE TABLE webhook_attempts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  started     TEXT    NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,                     -- the receiver's HTTP status, null on a network error or timeout
  error       TEXT,                        -- why the attempt did not succeed, null on a 2xx
  outcome     TEXT    NOT NULL             -- delivered | retry | failed
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
