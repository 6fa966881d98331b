// The dashboard without a browser: what the account page shows of live inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshAccount, startTestServer, type TestServer } from './helpers/server.js';

describe('dashboard account page', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('lists live inputs with their RTMP ingest URL', async () => {
    const account = freshAccount();
    const input = await server.sdk().stream.liveInputs.create({ account_id: account, meta: { name: 'studio' } });
    const html = await (await fetch(`${server.url}/_ministream/dashboard/accounts/${account}`)).text();
    expect(html).toContain(input.uid!);
    expect(html).toContain(input.rtmps!.url!);
  });
});
