// Signing keys and tokens, with jose (no hand-written crypto). Keys are RSA-2048 for RS256, and
// handed out as Cloudflare does: `pem` is the base64 of a PKCS#1 PEM, `jwk` the base64 of the JSON JWK.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';
import { Errors } from '../errors.js';
import { newUid, nowTimestamp } from '../store/clock.js';
import type { KeyStore, SigningKeyRecord } from '../store/key-store.js';

export interface CreatedKey {
  record: SigningKeyRecord;
  /** base64 of the PKCS#1 PEM ("-----BEGIN RSA PRIVATE KEY-----"). */
  pem: string;
  /** base64 of the private JWK JSON. */
  jwk: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Cloudflare's limit of keys per account. */
export const MAX_KEYS_PER_ACCOUNT = 1000;

async function newKeyPair(accountId: string, own: boolean): Promise<CreatedKey> {
  const id = newUid();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const privateJwk = { use: 'sig', ...(await exportJWK(privateKey)), kid: id, alg: 'RS256' };
  const publicJwk = { use: 'sig', ...(await exportJWK(publicKey)), kid: id, alg: 'RS256' };
  // jose exports PKCS#8; Cloudflare hands out PKCS#1, which node:crypto converts to.
  const pkcs1 = createPrivateKey(await exportPKCS8(privateKey)).export({ type: 'pkcs1', format: 'pem' }).toString();
  const record: SigningKeyRecord = { id, accountId, created: nowTimestamp(), publicJwk, privatePem: own ? pkcs1 : null, own };
  return { record, pem: b64(pkcs1), jwk: b64(JSON.stringify(privateJwk)) };
}

export async function createSigningKey(keys: KeyStore, accountId: string): Promise<CreatedKey> {
  if (keys.count(accountId) >= MAX_KEYS_PER_ACCOUNT) throw Errors.validation(`An account may hold at most ${MAX_KEYS_PER_ACCOUNT} signing keys`);
  const created = await newKeyPair(accountId, false);
  keys.add(created.record);
  return created;
}

/** The account's own key, made on first use. */
export async function ownKey(keys: KeyStore, accountId: string): Promise<SigningKeyRecord> {
  const existing = keys.ownKey(accountId);
  if (existing) return existing;
  const created = await newKeyPair(accountId, true);
  keys.add(created.record);
  return created.record;
}

export interface AccessRule {
  type: 'any' | 'ip.src' | 'ip.geoip.country';
  action: 'allow' | 'block';
  country?: string[];
  ip?: string[];
}

export interface TokenRequest {
  /** A signing key id; with it, `pem` must be given. */
  id?: string;
  /** base64 of a PEM private key (PKCS#1 as /keys returns it, or PKCS#8). */
  pem?: string;
  exp?: number;
  nbf?: number;
  downloadable?: boolean;
  accessRules?: AccessRule[];
  flags?: { original?: boolean };
}

const HOUR = 3600;

/** Reads a caller's key: the base64 PEM /keys returned (or a raw PEM). */
export function privateKeyFromPem(pem: string): KeyObject {
  const text = pem.includes('-----BEGIN') ? pem : Buffer.from(pem, 'base64').toString('utf8');
  try {
    return createPrivateKey(text);
  } catch {
    throw Errors.validation('pem must be the base64 of a PEM private key');
  }
}

/** POST /stream/{uid}/token: an RS256 JWT for one video. */
export async function signToken(keys: KeyStore, accountId: string, videoUid: string, req: TokenRequest): Promise<string> {
  if ((req.id === undefined) !== (req.pem === undefined)) throw Errors.validation('id and pem go together: give both or neither');
  const now = Math.floor(Date.now() / 1000);
  const exp = req.exp ?? now + HOUR;
  const nbf = req.nbf ?? now - HOUR;
  if (exp > now + 24 * HOUR) throw Errors.validation('exp must be at most 24 hours in the future');
  if (exp <= nbf) throw Errors.validation('exp must be after nbf');
  if ((req.accessRules?.length ?? 0) > 5) throw Errors.validation('accessRules takes at most 5 rules');
  let kid: string;
  let key: KeyObject;
  if (req.id !== undefined && req.pem !== undefined) {
    kid = req.id;
    key = privateKeyFromPem(req.pem);
  } else {
    const own = await ownKey(keys, accountId);
    kid = own.id;
    key = createPrivateKey(own.privatePem!);
  }
  const claims: Record<string, unknown> = { sub: videoUid, kid, exp, nbf };
  if (req.downloadable !== undefined) claims.downloadable = req.downloadable;
  if (req.accessRules) claims.accessRules = req.accessRules;
  if (req.flags) claims.flags = req.flags;
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}
