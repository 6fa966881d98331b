-- Watermark profiles, and the profile a video was uploaded with. A video keeps a copy of the
-- profile (Cloudflare shows the whole profile object on the video), so deleting the profile
-- later changes neither the video object nor its encode.
CREATE TABLE watermarks (
  uid             TEXT    NOT NULL PRIMARY KEY,
  account_id      TEXT    NOT NULL,
  name            TEXT    NOT NULL DEFAULT '',
  created         TEXT    NOT NULL,
  downloaded_from TEXT,
  size            INTEGER NOT NULL,
  width           INTEGER NOT NULL,
  height          INTEGER NOT NULL,
  opacity         REAL    NOT NULL DEFAULT 1,
  padding         REAL    NOT NULL DEFAULT 0.05,
  scale           REAL    NOT NULL DEFAULT 0.15,
  position        TEXT    NOT NULL DEFAULT 'upperRight',
  file            TEXT    NOT NULL  -- path of the image, relative to <data-dir>/watermarks
);
CREATE INDEX watermarks_account ON watermarks (account_id, created);
ALTER TABLE videos ADD COLUMN watermark TEXT; -- JSON copy of the profile, or NULL
