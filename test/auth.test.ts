// Auth: anything goes by default; with --api-token only those bearer tokens do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, startTestServer, type TestServer } from './helpers/server.js';

const LIST_PATH = '/accounts/{account_id}/stream';

describe('default: any credentials, or none', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('accepts no credentials, any bearer token and email + key', async () => {
    const account = freshAccount();
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer whatever' }, { 'x-auth-email': 'a@b.c', 'x-auth-key': 'k' }];
    for (const headers of variants) {
      const res = await fetch(server.streamUrl(account), { headers });
      expect(res.status).toBe(200);
    }
    const anonymous = new Cloudflare({ baseURL: server.apiBase, apiToken: null, apiKey: null, apiEmail: null, maxRetries: 0 });
    expect((await anonymous.stream.list({ account_id: account })).result).toEqual([]);
  });
});

describe('with --api-token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ apiTokens: ['secret-1', 'secret-2'] });
  });
  afterAll(async () => server?.close());

  it('accepts the configured tokens', async () => {
    for (const token of ['secret-1', 'secret-2']) {
      const cf = server.sdk({ apiToken: token });
      expect((await cf.stream.list({ account_id: freshAccount() })).result).toEqual([]);
    }
  });

  it('answers 401 without credentials and 403 with wrong ones, in Cloudflare\'s shape', async () => {
    const none = await fetch(server.streamUrl('acc'));
    expect(none.status).toBe(401);
    const noneBody = await none.json();
    expectSchema('GET', LIST_PATH, '4XX', noneBody);
    expect(noneBody.errors[0]).toEqual({ code: 10000, message: 'Authentication error' });

    const wrong = await server.sdk({ apiToken: 'nope' }).stream.list({ account_id: 'acc' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Cloudflare.PermissionDeniedError);
    const keyAuth = new Cloudflare({ baseURL: server.apiBase, apiEmail: 'a@b.c', apiKey: 'k', maxRetries: 0 });
    await expect(keyAuth.stream.list({ account_id: 'acc' })).rejects.toBeInstanceOf(Cloudflare.PermissionDeniedError);
  });

  it('keeps /healthz open for container health checks', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
