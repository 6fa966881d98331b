-- Signing keys (POST /stream/keys). Only the public half is kept: Cloudflare shows the private key
-- once, in the create answer. The account's own key (used by /token when no key is given) keeps
-- its private half, since Ministream signs with it.
CREATE TABLE signing_keys (
  id          TEXT NOT NULL PRIMARY KEY, -- the kid: 32 hex characters
  account_id  TEXT NOT NULL,
  created     TEXT NOT NULL,
  public_jwk  TEXT NOT NULL,             -- JSON
  private_pem TEXT,                      -- only for the account's own key (own = 1)
  own         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signing_keys_account ON signing_keys (account_id, own, created);
