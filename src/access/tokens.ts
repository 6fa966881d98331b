// Verifies a signed-URL token as Cloudflare does: RS256 only, a kid naming a live signing key,
// exp/nbf (numbers or numeric strings, as Cloudflare's own examples write them), sub naming the
// video, and accessRules checked in order, first match wins, no match allows.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { KeyStore } from '../store/key-store.js';
import type { AccessRule } from './signing.js';

export interface TokenGrant {
  accountId: string;
  videoUid: string;
  downloadable: boolean;
  kid: string;
}

export interface Viewer {
  ip: string;
  /** ISO 3166-1 alpha-2, from the cf-ipcountry header; undefined if unknown. */
  country: string | undefined;
}

/** Why a token was refused (for the log); `rule` means an access rule blocked the viewer. */
export class TokenRefusal extends Error {
  constructor(
    message: string,
    /** 'rule': an access rule blocked the viewer; 'shape': not even a JWT (so: an unknown id). */
    readonly kind: 'token' | 'rule' | 'shape' = 'token',
  ) {
    super(message);
    this.name = 'TokenRefusal';
  }
}

/** Longer tokens are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 4096;
export const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function numericClaim(value: unknown, name: string, required: boolean): number | undefined {
  if (value === undefined && !required) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new TokenRefusal(`${name} claim is missing or not a number`);
  return n;
}

/** An IPv4-mapped IPv6 address (::ffff:1.2.3.4) is its IPv4 address. */
function plainIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

function ipMatches(ranges: string[], viewerIp: string): boolean {
  const ip = plainIp(viewerIp);
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return false;
  const list = new BlockList();
  for (const entry of ranges) {
    const [address, prefix] = entry.split('/');
    // An IPv4 rule never matches an IPv6 viewer, and the reverse.
    const entryFamily = address && isIPv4(address) ? 'ipv4' : address && isIPv6(address) ? 'ipv6' : undefined;
    if (entryFamily !== family) continue;
    if (prefix === undefined) list.addAddress(address!, family);
    else if (/^\d+$/.test(prefix)) list.addSubnet(address!, Number(prefix), family);
  }
  return list.check(ip, family);
}

function ruleMatches(rule: AccessRule, viewer: Viewer): boolean {
  switch (rule.type) {
    case 'any':
      return true;
    case 'ip.src':
      return ipMatches(rule.ip ?? [], viewer.ip);
    case 'ip.geoip.country':
      return viewer.country !== undefined && (rule.country ?? []).some((c) => c.toUpperCase() === viewer.country);
    default:
      return false;
  }
}

/** First matching rule decides; none matching allows. */
export function rulesAllow(rules: unknown, viewer: Viewer): boolean {
  if (rules === undefined) return true;
  if (!Array.isArray(rules)) throw new TokenRefusal('accessRules is not an array');
  for (const rule of rules as AccessRule[]) {
    if (!rule || typeof rule !== 'object') throw new TokenRefusal('an access rule is not an object');
    if (ruleMatches(rule, viewer)) return rule.action === 'allow';
  }
  return true;
}

export async function verifyToken(keys: KeyStore, token: string, viewer: Viewer, nowSeconds = Date.now() / 1000): Promise<TokenGrant> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenRefusal('token too long');
  if (!JWS_SHAPE.test(token)) throw new TokenRefusal('neither a uid nor a signed JWT', 'shape');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenRefusal('unreadable token header');
  }
  // Only RS256: `none`, HS256 signed with the public key, and every other algorithm are refused.
  if (header.alg !== 'RS256') throw new TokenRefusal(`algorithm ${String(header.alg)} is not accepted`);
  if (typeof header.kid !== 'string') throw new TokenRefusal('no kid in the token header');
  const key = keys.find(header.kid);
  if (!key) throw new TokenRefusal(`unknown or deleted signing key ${header.kid}`);
  let payload: Record<string, unknown>;
  try {
    const publicKey = await importJWK(key.publicJwk as JWK, 'RS256');
    const verified = await compactVerify(token, publicKey, { algorithms: ['RS256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    throw new TokenRefusal('bad signature or payload');
  }
  if (!payload || typeof payload !== 'object') throw new TokenRefusal('payload is not an object');
  const exp = numericClaim(payload.exp, 'exp', true)!;
  const nbf = numericClaim(payload.nbf, 'nbf', false);
  if (exp <= nowSeconds) throw new TokenRefusal('token expired');
  if (nbf !== undefined && nbf > nowSeconds) throw new TokenRefusal('token not valid yet');
  if (typeof payload.sub !== 'string') throw new TokenRefusal('no sub claim naming the video');
  if (!rulesAllow(payload.accessRules, viewer)) throw new TokenRefusal('blocked by the token\'s access rules', 'rule');
  return {
    accountId: key.accountId,
    videoUid: payload.sub,
    downloadable: payload.downloadable === true || payload.downloadable === 'true',
    kid: key.id,
  };
}

/**
 * The `sub` of a JWT, NOT verified: only to route a request to the gate that will verify it (a
 * token for a live input or for a video); undefined when it is no JWT with a string sub.
 */
export function unverifiedSubject(token: string): string | undefined {
  if (!JWS_SHAPE.test(token)) return undefined;
  try {
    const sub = decodeJwt(token).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
