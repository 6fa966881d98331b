// Access control: signing keys, tokens, signed delivery and allowed origins, enforced like Cloudflare.
import { createPrivateKey, createPublicKey, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { originAllowed } from '../src/access/origins.js';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let cf: Cloudflare;
const account = freshAccount();
let protectedUid: string;
let otherUid: string;
let key: { id: string; pem: string; jwk: string };

const b64d = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function ready(uid: string) {
  await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 50);
}

beforeAll(async () => {
  server = await startTestServer({ encoding: 'fast' });
  cf = server.sdk();
  protectedUid = await uploadVideo(server, account, media('small.mp4'));
  otherUid = await uploadVideo(server, account, media('small.mp4'));
  await Promise.all([ready(protectedUid), ready(otherUid)]);
  await cf.stream.edit(protectedUid, { account_id: account, requireSignedURLs: true });
  const created = await cf.stream.keys.create({ account_id: account });
  key = created as typeof key;
});
afterAll(async () => server?.close());

const manifest = (idOrToken: string, headers: Record<string, string> = {}) => fetch(`${server.url}/${idOrToken}/manifest/video.m3u8`, { headers });

/** Signs the way apps do in a Worker: jose with the JWK that /keys returned. */
async function appToken(claims: Record<string, unknown>, kid = key.id, jwk = key.jwk): Promise<string> {
  const privateKey = await importJWK(JSON.parse(b64d(jwk)) as JWK, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
}

describe('signing keys', () => {
  it('creates an RSA key and returns id, pem and jwk base64-encoded, once', async () => {
    const raw = await cf.stream.keys.create({ account_id: account }).asResponse();
    const body = await raw.json();
    expectSchema('POST', '/accounts/{account_id}/stream/keys', '200', body);
    const k = body.result;
    expect(k.id).toMatch(/^[0-9a-f]{32}$/);
    expect(b64d(k.pem)).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const jwk = JSON.parse(b64d(k.jwk));
    expect(jwk).toMatchObject({ kid: k.id, alg: 'RS256', kty: 'RSA', use: 'sig' });
    expect(jwk.d).toBeTruthy();
    expect(createPrivateKey(b64d(k.pem)).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('lists keys without private material, and deletes them', async () => {
    const acc = freshAccount();
    const a = await cf.stream.keys.create({ account_id: acc });
    const raw = await cf.stream.keys.get({ account_id: acc }).asResponse();
    const body = await raw.json();
    expectSchema('GET', '/accounts/{account_id}/stream/keys', '200', body);
    expect(body.result).toEqual([{ id: a.id, key_id: a.id, created: a.created }]);
    expect(JSON.stringify(body)).not.toContain('pem');
    const del = await cf.stream.keys.delete(a.id!, { account_id: acc });
    expect(del).toBe('Revoked');
    expect((await cf.stream.keys.get({ account_id: acc })).result).toEqual([]);
    await expect(cf.stream.keys.delete(a.id!, { account_id: acc })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });
});

describe('POST /stream/{uid}/token', () => {
  it('signs with the account key of Ministream\'s own when no key is given, with exp 1 h', async () => {
    const raw = await cf.stream.token.create(protectedUid, { account_id: account }).asResponse();
    const body = await raw.json();
    expectSchema('POST', '/accounts/{account_id}/stream/{identifier}/token', '200', body);
    const { token } = body.result;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256' });
    const claims = decodeJwt(token);
    expect(claims.sub).toBe(protectedUid);
    expect(claims.exp! - now()).toBeGreaterThan(3500);
    expect((await manifest(token)).status).toBe(200);
  });

  it('signs with a given key and pem, with the body fields of the SDK', async () => {
    const { token } = await cf.stream.token.create(protectedUid, {
      account_id: account, id: key.id, pem: key.pem, exp: now() + 600, downloadable: true,
      accessRules: [{ type: 'any', action: 'allow' }],
    });
    expect(decodeProtectedHeader(token!).kid).toBe(key.id);
    expect(decodeJwt(token!)).toMatchObject({ sub: protectedUid, downloadable: true });
    expect((await manifest(token!)).status).toBe(200);
  });

  it('refuses an exp more than 24 h ahead, and an id without pem', async () => {
    await expect(cf.stream.token.create(protectedUid, { account_id: account, exp: now() + 90_000 })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    await expect(cf.stream.token.create(protectedUid, { account_id: account, id: key.id })).rejects.toBeInstanceOf(Cloudflare.BadRequestError);
    await expect(cf.stream.token.create('0123456789abcdef0123456789abcdef', { account_id: account })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
  });
});

describe('signed delivery', () => {
  it('refuses a video with requireSignedURLs by its bare uid, everywhere', async () => {
    for (const path of ['manifest/video.m3u8', 'manifest/video.mpd', 'iframe', 'watch', 'thumbnails/thumbnail.jpg']) {
      const res = await fetch(`${server.url}/${protectedUid}/${path}`);
      expect(res.status, path).toBe(401);
      expect((await res.json()).success).toBe(false);
    }
    expect((await manifest(otherUid)).status).toBe(200);
  });

  it('serves the whole stream through a token an app signed itself, from the jwk or the pem', async () => {
    const token = await appToken({ sub: protectedUid, kid: key.id, exp: now() + 300 });
    const master = await (await manifest(token)).text();
    const playlist = master.split('\n').find((l) => l.endsWith('.m3u8'))!;
    const media = await fetch(`${server.url}/${token}/manifest/${playlist}`);
    expect(media.status).toBe(200);
    const segment = (await media.text()).split('\n').find((l) => l.endsWith('.m4s'))!;
    expect((await fetch(`${server.url}/${token}/manifest/${segment}`)).status).toBe(200);
    expect((await fetch(`${server.url}/${token}/thumbnails/thumbnail.jpg?width=64`)).status).toBe(200);
    expect((await fetch(`${server.url}/${token}/iframe`)).status).toBe(200);

    const fromPem = await new SignJWT({ sub: protectedUid, exp: now() + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: key.id })
      .sign(createPrivateKey(b64d(key.pem)));
    expect((await manifest(fromPem)).status).toBe(200);
  });

  it('accepts exp and nbf as numeric strings, the way Cloudflare\'s examples write them', async () => {
    const token = await appToken({ sub: protectedUid, kid: key.id, exp: String(now() + 300), nbf: String(now() - 60) });
    expect((await manifest(token)).status).toBe(200);
  });

  it('refuses forged, expired and otherwise wrong tokens', async () => {
    const good = await appToken({ sub: protectedUid, exp: now() + 300 });
    const [h, p, s] = good.split('.') as [string, string, string];
    const publicPem = createPublicKey(createPrivateKey(b64d(key.pem))).export({ type: 'spki', format: 'pem' }).toString();
    const hsHeader = b64url(JSON.stringify({ alg: 'HS256', kid: key.id }));
    const hsPayload = b64url(JSON.stringify({ sub: protectedUid, exp: now() + 300 }));
    const hs256 = `${hsHeader}.${hsPayload}.${createHmac('sha256', publicPem).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`;
    const noneToken = `${b64url(JSON.stringify({ alg: 'none', kid: key.id }))}.${hsPayload}.`;
    const deleted = await cf.stream.keys.create({ account_id: account });
    const byDeleted = await appToken({ sub: protectedUid, exp: now() + 300 }, deleted.id!, deleted.jwk!);
    await cf.stream.keys.delete(deleted.id!, { account_id: account });
    const tampered = `${h}.${b64url(JSON.stringify({ sub: protectedUid, exp: now() + 99999 }))}.${s}`;
    const badSig = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const cases: Record<string, string> = {
      expired: await appToken({ sub: protectedUid, exp: now() - 10 }),
      'not yet valid': await appToken({ sub: protectedUid, exp: now() + 300, nbf: now() + 200 }),
      "another video's sub": await appToken({ sub: otherUid, exp: now() + 300 }),
      'no sub': await appToken({ exp: now() + 300 }),
      'no exp': await appToken({ sub: protectedUid }),
      'tampered payload': tampered,
      'tampered signature': badSig,
      'alg none': noneToken,
      'HS256 with the public key': hs256,
      'unknown kid': await appToken({ sub: protectedUid, exp: now() + 300 }, 'f'.repeat(32)),
      'deleted key': byDeleted,
      garbage: 'not-a-token-at-all',
      'three garbage parts': 'abc.def.ghi',
      overlong: `${h}.${'A'.repeat(5000)}.${s}`,
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await manifest(token);
      // "another video's sub" names a real, unprotected video: that token opens that video, not this one.
      if (name === "another video's sub") {
        expect(await res.text(), name).not.toContain(protectedUid);
        continue;
      }
      expect([401, 403, 404], `${name}: ${res.status}`).toContain(res.status);
    }
  });

  it('applies accessRules in order, first match wins, by IP range and by country', async () => {
    const status = async (rules: unknown[], headers: Record<string, string> = {}) =>
      (await manifest(await appToken({ sub: protectedUid, exp: now() + 300, accessRules: rules }), headers)).status;
    expect(await status([{ type: 'ip.src', ip: ['127.0.0.0/8'], action: 'allow' }, { type: 'any', action: 'block' }])).toBe(200);
    expect(await status([{ type: 'ip.src', ip: ['10.0.0.0/8', '127.0.0.1'], action: 'block' }])).toBe(403);
    expect(await status([{ type: 'ip.src', ip: ['::1/128'], action: 'block' }])).toBe(200); // IPv6 rules never match IPv4
    expect(await status([{ type: 'ip.geoip.country', country: ['US'], action: 'allow' }, { type: 'any', action: 'block' }], { 'cf-ipcountry': 'US' })).toBe(200);
    expect(await status([{ type: 'ip.geoip.country', country: ['US'], action: 'allow' }, { type: 'any', action: 'block' }], { 'cf-ipcountry': 'DE' })).toBe(403);
    expect(await status([{ type: 'ip.geoip.country', country: ['DE'], action: 'block' }])).toBe(200); // no rule matches: allowed
  });
});

describe('allowed origins', () => {
  it('matches like Cloudflare', () => {
    const list = ['example.com', '*.example.net', 'localhost:3000'];
    expect(originAllowed(list, 'example.com')).toBe(true);
    expect(originAllowed(list, 'www.example.com')).toBe(false);
    expect(originAllowed(list, 'a.example.net')).toBe(true);
    expect(originAllowed(list, 'a.b.example.net')).toBe(true);
    expect(originAllowed(list, 'example.net')).toBe(false);
    expect(originAllowed(list, 'localhost:3000')).toBe(true);
    expect(originAllowed(list, 'localhost:4000')).toBe(false);
    expect(originAllowed(list, 'localhost')).toBe(false);
    expect(originAllowed(['*'], 'anything.test')).toBe(true);
    expect(originAllowed([], 'anything.test')).toBe(true);
    expect(originAllowed(['localhost'], 'localhost')).toBe(true); // port 80 needs none
  });

  it('lets only listed pages embed the player and fetch manifests and thumbnails', async () => {
    const uid = await uploadVideo(server, account, media('small.mp4'));
    await ready(uid);
    await cf.stream.edit(uid, { account_id: account, allowedOrigins: ['example.com', '*.example.net', 'localhost:3000'] });
    const get = (path: string, headers: Record<string, string>) => fetch(`${server.url}/${uid}/${path}`, { headers }).then((r) => r.status);
    expect(await get('iframe', { Referer: 'https://example.com/page' })).toBe(200);
    expect(await get('iframe', { Referer: 'https://a.example.net/x' })).toBe(200);
    expect(await get('iframe', { Referer: 'http://localhost:3000/' })).toBe(200);
    expect(await get('iframe', { Referer: 'https://evil.test/' })).toBe(403);
    expect(await get('iframe', { Referer: 'http://localhost:4000/' })).toBe(403);
    expect(await get('iframe', {})).toBe(403);
    expect(await get('manifest/video.m3u8', { Origin: 'https://example.com' })).toBe(200);
    expect(await get('manifest/video.m3u8', { Origin: 'https://evil.test' })).toBe(403);
    expect(await get('thumbnails/thumbnail.jpg', { Referer: 'https://evil.test/' })).toBe(403);
    // The player's own requests (same origin as Ministream) pass.
    expect(await get('manifest/video.m3u8', { Referer: `${server.url}/${uid}/iframe` })).toBe(200);
  });
});

describe('fuzz', () => {
  it('accepts none of a thousand malformed tokens and paths, never answers 5xx, and keeps serving', async () => {
    const good = await appToken({ sub: protectedUid, exp: now() + 300 });
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.%/~!$&()*+,;=:@';
    const mutate = (s: string) => {
      const chars = s.split('');
      const n = 1 + Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) chars[Math.floor(rand() * chars.length)] = alphabet[Math.floor(rand() * alphabet.length)]!;
      return chars.join('');
    };
    const statuses = new Map<number, number>();
    const suffixes = ['manifest/video.m3u8', 'manifest/video.mpd', 'thumbnails/thumbnail.jpg', 'iframe', 'manifest/x.m4s'];
    for (let i = 0; i < 1000; i++) {
      const kind = i % 4;
      const id =
        kind === 0 ? mutate(good)
        : kind === 1 ? good.slice(0, Math.floor(rand() * good.length))
        : kind === 2 ? Array.from({ length: 1 + Math.floor(rand() * 80) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('')
        : `${protectedUid.slice(0, 31)}${'0123456789abcdef'[Math.floor(rand() * 16)]}`;
      const path = `/${encodeURI(id).replace(/#/g, '%23').replace(/\?/g, '%3F')}/${suffixes[i % suffixes.length]}`;
      const res = await fetch(`${server.url}${path}`);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, path).toBeLessThan(500);
      if (id !== good && id !== protectedUid) expect(res.status === 200 && (await res.text()).includes('EXTM3U') && id.length > 40, path).toBe(false);
      else await res.arrayBuffer();
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await manifest(good)).status).toBe(200);
  });
});
