// The emulator as users start it: flags, environment twins, readiness, shutdown and restart.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Cloudflare from 'cloudflare';
import { afterAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../src/store/database.js';
import { runCli } from './helpers/process.js';
import { media } from './helpers/server.js';
import { basicUpload } from './helpers/upload.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ministream-cli-'));
  dirs.push(d);
  return d;
}

describe('ministream CLI', () => {
  it('prints --help with every flag', async () => {
    const p = runCli(['--help']);
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('--data-dir');
    expect(p.output()).toContain('MINISTREAM_PORT');
  });

  it('exits 2 with a message on a bad flag', async () => {
    const p = runCli(['--port', 'eighty']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('--port must be');
  });

  it('starts, says it is ready, keeps data across a SIGTERM and a restart', async () => {
    const dataDir = tempDir();
    const first = runCli(['--port', '0', '--data-dir', dataDir]);
    const url = await first.ready;
    const health = await fetch(`${url}/healthz`).then((r) => r.json());
    expect(health).toMatchObject({ status: 'ok', ffmpeg: { source: expect.stringMatching(/^(system|npm|env)$/) } });
    const server = { streamUrl: (a: string) => `${url}/client/v4/accounts/${a}/stream` };
    const up = await basicUpload(server as never, 'acc', media('small.mp4'));
    expect(up.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = runCli(['--port', '0'], { MINISTREAM_DATA_DIR: dataDir });
    const url2 = await second.ready;
    const cf = new Cloudflare({ baseURL: `${url2}/client/v4`, apiToken: 't', maxRetries: 0 });
    const video = await cf.stream.get(up.body.result.uid, { account_id: 'acc' });
    // Encoding may have begun or ended meanwhile; what matters is that the video came back.
    expect(['queued', 'inprogress', 'ready']).toContain(video.status?.state);
    expect(existsSync(join(dataDir, 'media', video.uid!, 'original'))).toBe(true);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);

    // Migrations ran once and are recorded; the store is in WAL mode.
    const db = new Database(join(dataDir, 'ministream.sqlite'), { readonly: true });
    const applied = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[];
    const files = readMigrations();
    expect(applied).toEqual(files.map((m) => ({ version: m.version, name: m.name })));
    expect(applied[0]).toEqual({ version: 1, name: '001_videos.sql' });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('uses --public-url (or its env twin) in returned URLs, and removes an --in-memory folder at exit', async () => {
    const p = runCli(['--port', '0', '--in-memory'], { MINISTREAM_PUBLIC_URL: 'http://ministream.test:8789' });
    const url = await p.ready;
    const up = await basicUpload({ streamUrl: (a: string) => `${url}/client/v4/accounts/${a}/stream` } as never, 'acc', media('small.mp4'));
    expect(up.body.result.thumbnail).toBe(`http://ministream.test:8789/${up.body.result.uid}/thumbnails/thumbnail.jpg`);
    const dataDir = /"dataDir":"([^"]+)"/.exec(p.output())![1]!;
    expect(existsSync(dataDir)).toBe(true);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });
});
