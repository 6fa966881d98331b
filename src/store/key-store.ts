// Signing keys over SQLite: the keys an account created (public half only) and the account's own
// key that Ministream signs /token answers with (as Cloudflare signs with a key of its own).
import { statementCache, type Statement, type Db } from './database.js';

export interface SigningKeyRecord {
  id: string;
  accountId: string;
  created: string;
  publicJwk: Record<string, unknown>;
  privatePem: string | null;
  own: boolean;
}

export interface KeyStore {
  add(key: SigningKeyRecord): void;
  /** The keys an account created, oldest first (not its own key). */
  list(accountId: string): SigningKeyRecord[];
  count(accountId: string): number;
  /** A key by its kid, whichever account holds it: tokens name no account. */
  find(kid: string): SigningKeyRecord | undefined;
  ownKey(accountId: string): SigningKeyRecord | undefined;
  delete(accountId: string, id: string): boolean;
}

interface Row {
  id: string;
  account_id: string;
  created: string;
  public_jwk: string;
  private_pem: string | null;
  own: number;
}

const fromRow = (r: Row): SigningKeyRecord => ({
  id: r.id,
  accountId: r.account_id,
  created: r.created,
  publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
  privatePem: r.private_pem,
  own: r.own === 1,
});

export class SqliteKeyStore implements KeyStore {
  /** Prepared once per SQL text. */
  private readonly sql: (sql: string) => Statement;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  add(k: SigningKeyRecord): void {
    this.sql('INSERT INTO signing_keys (id, account_id, created, public_jwk, private_pem, own) VALUES (?, ?, ?, ?, ?, ?)')
      .run(k.id, k.accountId, k.created, JSON.stringify(k.publicJwk), k.privatePem, k.own ? 1 : 0);
  }

  list(accountId: string): SigningKeyRecord[] {
    return (this.sql('SELECT * FROM signing_keys WHERE account_id = ? AND own = 0 ORDER BY created').all(accountId) as Row[]).map(fromRow);
  }

  count(accountId: string): number {
    return (this.sql('SELECT count(*) AS n FROM signing_keys WHERE account_id = ? AND own = 0').get(accountId) as { n: number }).n;
  }

  find(kid: string): SigningKeyRecord | undefined {
    const row = this.sql('SELECT * FROM signing_keys WHERE id = ?').get(kid) as Row | undefined;
    return row && fromRow(row);
  }

  ownKey(accountId: string): SigningKeyRecord | undefined {
    const row = this.sql('SELECT * FROM signing_keys WHERE account_id = ? AND own = 1').get(accountId) as Row | undefined;
    return row && fromRow(row);
  }

  delete(accountId: string, id: string): boolean {
    return this.sql('DELETE FROM signing_keys WHERE account_id = ? AND id = ? AND own = 0').run(accountId, id).changes > 0;
  }
}
