// Compatibility suite: every implemented video operation driven through the official cloudflare SDK
// (7.3, baseURL pointed at Ministream), each JSON answer checked against the official schema.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Cloudflare from 'cloudflare';
import { expectSchema } from './helpers/openapi.js';
import { freshAccount, media, startTestServer, type TestServer } from './helpers/server.js';
import { basicUpload, uploadVideo } from './helpers/upload.js';
import { waitFor } from './helpers/wait.js';

const VIDEO_PATH = '/accounts/{account_id}/stream/{identifier}';
const LIST_PATH = '/accounts/{account_id}/stream';

let server: TestServer;
let cf: Cloudflare;

beforeAll(async () => {
  server = await startTestServer();
  cf = server.sdk();
});
afterAll(async () => {
  await server?.close();
});

async function rawJson(promise: { asResponse(): Promise<Response> }): Promise<{ status: number; body: unknown }> {
  const res = await promise.asResponse();
  return { status: res.status, body: await res.json() };
}

describe('basic upload', () => {
  it('turns a multipart upload into a queued video with the probe facts, as Stream does', async () => {
    const account = freshAccount();
    const { status, body } = await basicUpload(server, account, media('small.mp4'));
    expect(status).toBe(200);
    expectSchema('GET', VIDEO_PATH, '200', body);
    const v = body.result as unknown as Cloudflare.Stream.Video;
    expect(v.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(v.status).toEqual({ state: 'queued', pctComplete: '0.000000', errorReasonCode: '', errorReasonText: '' });
    expect(v.duration).toBeCloseTo(2, 0);
    expect(v.input).toEqual({ width: 320, height: 240 });
    expect(v.size).toBe(statSync(media('small.mp4')).size);
    expect(v.readyToStream).toBe(false);
    expect(v.requireSignedURLs).toBe(false);
    expect(v.allowedOrigins).toEqual([]);
    expect(v.thumbnailTimestampPct).toBe(0);
    expect(v.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(v.playback).toEqual({
      hls: `${server.url.replace('127.0.0.1', '127.0.0.1')}/${v.uid}/manifest/video.m3u8`,
      dash: `${server.url}/${v.uid}/manifest/video.mpd`,
    });
    expect(v.thumbnail).toBe(`${server.url}/${v.uid}/thumbnails/thumbnail.jpg`);
    expect(v.preview).toBe(`${server.url}/${v.uid}/watch`);
    // One folder per video under the data folder holds the original, byte for byte.
    const original = join(server.dataDir, 'media', v.uid!, 'original');
    expect(statSync(original).size).toBe(v.size);
  });

  it('takes a video without audio', async () => {
    const { status, body } = await basicUpload(server, freshAccount(), media('silent.mp4'));
    expect(status).toBe(200);
    expect(body.result.input).toEqual({ width: 176, height: 144 });
  });
});

describe('get, edit, delete through the SDK', () => {
  it('gets a video field for field', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const raw = await rawJson(cf.stream.get(uid, { account_id: account }));
    expect(raw.status).toBe(200);
    expectSchema('GET', VIDEO_PATH, '200', raw.body);
    const video = await cf.stream.get(uid, { account_id: account });
    expect(video).toEqual((raw.body as { result: unknown }).result);
    expect(video.uid).toBe(uid);
  });

  it('edits every mutable field and keeps the rest', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const before = await cf.stream.get(uid, { account_id: account });
    const deletion = new Date(Date.now() + 40 * 86_400_000).toISOString();
    const expiry = new Date(Date.now() + 3_600_000).toISOString();
    const params = {
      account_id: account,
      meta: { name: 'edited', custom: 'value' },
      requireSignedURLs: true,
      allowedOrigins: ['example.com', '*.example.net', 'localhost:3000'],
      thumbnailTimestampPct: 0.5,
      creator: 'creator-42',
      scheduledDeletion: deletion,
      maxDurationSeconds: 600,
      uploadExpiry: expiry,
      publicDetails: { title: 'A title', share_link: 'https://example.com/s', channel_link: null, logo: null },
      uid,
    };
    const raw = await rawJson(cf.stream.edit(uid, params));
    expect(raw.status).toBe(200);
    expectSchema('POST', VIDEO_PATH, '200', raw.body);
    const edited = await cf.stream.get(uid, { account_id: account });
    expect(edited).toMatchObject({
      meta: { name: 'edited', custom: 'value' },
      requireSignedURLs: true,
      allowedOrigins: ['example.com', '*.example.net', 'localhost:3000'],
      thumbnailTimestampPct: 0.5,
      creator: 'creator-42',
      maxDurationSeconds: 600,
      publicDetails: { title: 'A title', share_link: 'https://example.com/s', channel_link: null, logo: null },
    });
    expect(Date.parse(edited.scheduledDeletion!)).toBe(Date.parse(deletion));
    expect(Date.parse(edited.uploadExpiry!)).toBe(Date.parse(expiry));
    expect(edited.duration).toBe(before.duration);
    expect(edited.created).toBe(before.created);
    expect(edited.modified! > before.modified!).toBe(true);

    // null removes a scheduled deletion; leaving a field out changes nothing.
    const cleared = await cf.stream.edit(uid, { account_id: account, scheduledDeletion: null as unknown as string });
    expect(cleared.scheduledDeletion).toBeNull();
    expect(cleared.requireSignedURLs).toBe(true);
  });

  it('refuses a scheduled deletion closer than 30 days, like Stream', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const soon = new Date(Date.now() + 86_400_000).toISOString();
    const err = await cf.stream.edit(uid, { account_id: account, scheduledDeletion: soon }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    expectSchema('POST', VIDEO_PATH, '4XX', (err as InstanceType<typeof Cloudflare.APIError>).error);
  });

  it('deletes a video and its files', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    expect(existsSync(join(server.dataDir, 'media', uid))).toBe(true);
    await cf.stream.delete(uid, { account_id: account });
    expect(existsSync(join(server.dataDir, 'media', uid))).toBe(false);
    const err = await cf.stream.get(uid, { account_id: account }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cloudflare.NotFoundError);
    expectSchema('GET', VIDEO_PATH, '4XX', (err as InstanceType<typeof Cloudflare.APIError>).error);
    const again = await cf.stream.delete(uid, { account_id: account }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Cloudflare.NotFoundError);
  });

  it('returns the embed code as text/html', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const html = await cf.stream.embed.get(uid, { account_id: account });
    expect(typeof html).toBe('string');
    expect(html).toContain(`${server.url}/${uid}/iframe`);
    expect(html).toMatch(/^<iframe /);
  });

  it('accepts both auth styles: bearer token and email + key', async () => {
    const account = freshAccount();
    const uid = await uploadVideo(server, account, media('small.mp4'));
    const keyClient = new Cloudflare({ baseURL: server.apiBase, apiEmail: 'dev@example.com', apiKey: 'k'.repeat(37), maxRetries: 0 });
    expect((await keyClient.stream.get(uid, { account_id: account })).uid).toBe(uid);
    expect((await cf.stream.get(uid, { account_id: account })).uid).toBe(uid);
  });

  it('keeps accounts apart', async () => {
    const a = freshAccount();
    const b = freshAccount();
    const uid = await uploadVideo(server, a, media('small.mp4'));
    await expect(cf.stream.get(uid, { account_id: b })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    await expect(cf.stream.delete(uid, { account_id: b })).rejects.toBeInstanceOf(Cloudflare.NotFoundError);
    expect((await cf.stream.list({ account_id: b })).result).toEqual([]);
    expect((await cf.stream.get(uid, { account_id: a })).uid).toBe(uid);
  });
});

describe('list', () => {
  const account = freshAccount();
  const uids: string[] = [];

  beforeAll(async () => {
    // Four videos, oldest first, with names and creators to filter on.
    for (const [name, creator] of [['Holiday in Rome', 'alice'], ['rome at night', 'bob'], ['Paris', 'alice'], ['Berlin', null]] as const) {
      const uid = await uploadVideo(server, account, media('small.mp4'));
      await cf.stream.edit(uid, { account_id: account, meta: { name }, ...(creator ? { creator } : {}) });
      uids.push(uid);
    }
    // Settle the encodes, so that the status filters below see stable states.
    for (const uid of uids) {
      await waitFor(() => cf.stream.get(uid, { account_id: account }), (v) => v.status?.state === 'ready', 60_000, 50);
    }
  });

  it('lists newest first with total and range at the top level', async () => {
    const raw = await rawJson(cf.stream.list({ account_id: account }));
    expectSchema('GET', LIST_PATH, '200', raw.body);
    const body = raw.body as { result: { uid: string }[]; total: number; range: number };
    expect(body.result.map((v) => v.uid)).toEqual([...uids].reverse());
    expect(body.total).toBe(4);
    expect(body.range).toBe(4);
    const page = await cf.stream.list({ account_id: account, include_counts: true });
    expect(page.result.map((v) => v.uid)).toEqual([...uids].reverse());
  });

  it('orders ascending and limits', async () => {
    const page = await cf.stream.list({ account_id: account, asc: true, limit: 2 });
    expect(page.result.map((v) => v.uid)).toEqual(uids.slice(0, 2));
  });

  it('pages by date with before/after and their start/end aliases', async () => {
    const first = await cf.stream.list({ account_id: account, limit: 2 });
    const last = first.result.at(-1)!;
    const next = await cf.stream.list({ account_id: account, limit: 2, before: last.created });
    expect(next.result.map((v) => v.uid)).toEqual([uids[1], uids[0]]);
    const raw = (await rawJson(cf.stream.list({ account_id: account, limit: 2, before: last.created }))).body as { total: number; range: number };
    expect(raw).toMatchObject({ total: 4, range: 2 });
    const asc = await cf.stream.list({ account_id: account, asc: true, after: uids.length ? (await cf.stream.get(uids[1]!, { account_id: account })).created : undefined });
    expect(asc.result.map((v) => v.uid)).toEqual(uids.slice(2));
    const aliased = await cf.stream.list({ account_id: account, end: last.created });
    expect(aliased.result.map((v) => v.uid)).toEqual([uids[1], uids[0]]);
    const started = await cf.stream.list({ account_id: account, start: last.created, asc: true });
    expect(started.result.map((v) => v.uid)).toEqual([uids[3]]);
  });

  it('filters by creator, search, video_name, id, name, status and type', async () => {
    const uidsOf = async (params: Omit<Cloudflare.Stream.StreamListParams, 'account_id'>) =>
      (await cf.stream.list({ account_id: account, asc: true, ...params })).result.map((v) => v.uid);
    expect(await uidsOf({ creator: 'alice' })).toEqual([uids[0], uids[2]]);
    expect(await uidsOf({ search: 'ROME' })).toEqual([uids[0], uids[1]]);
    expect(await uidsOf({ video_name: 'Paris' })).toEqual([uids[2]]);
    expect(await uidsOf({ video_name: 'paris' })).toEqual([]);
    expect(await uidsOf({ id: uids[3] })).toEqual([uids[3]]);
    expect(await uidsOf({ id: `${uids[0]},${uids[3]}` })).toEqual([uids[0], uids[3]]);
    expect(await uidsOf({ name: `Berlin,${uids[0]}` })).toEqual([uids[0], uids[3]]);
    expect(await uidsOf({ status: 'ready' })).toEqual(uids);
    expect(await uidsOf({ status: 'queued' })).toEqual([]);
    expect(await uidsOf({ type: 'vod' })).toEqual(uids);
    expect(await uidsOf({ type: 'live' })).toEqual([]);
    expect(await uidsOf({ live_input_id: 'fc0a8dc887b16759bfd9ad922230a014' })).toEqual([]);
    const comma = await fetch(`${server.streamUrl(account)}?status=queued,ready&asc=true`).then((r) => r.json() as Promise<{ result: { uid: string }[] }>);
    expect(comma.result.map((v) => v.uid)).toEqual(uids);
  });
});

describe('storage usage', () => {
  it('counts videos and stored minutes, per creator too', async () => {
    const account = freshAccount();
    const a = await uploadVideo(server, account, media('small.mp4'));
    await uploadVideo(server, account, media('silent.mp4'));
    await cf.stream.edit(a, { account_id: account, creator: 'alice' });
    const raw = await rawJson(cf.stream.videos.storageUsage({ account_id: account }));
    expectSchema('GET', '/accounts/{account_id}/stream/storage-usage', '200', raw.body);
    const all = await cf.stream.videos.storageUsage({ account_id: account });
    // Durations rounded up to the second: 2 s + 1 s.
    expect(all).toEqual({ creator: null, videoCount: 2, totalStorageMinutes: 3 / 60, totalStorageMinutesLimit: 1000 });
    const alice = await cf.stream.videos.storageUsage({ account_id: account, creator: 'alice' });
    expect(alice).toMatchObject({ creator: 'alice', videoCount: 1, totalStorageMinutes: 2 / 60 });
  });
});
