// The dashboard: server-rendered pages under /_ministream/dashboard (accounts, an account's videos,
// live inputs, webhook deliveries, keys and watermarks, a video with its player), the JSON its
// script refreshes them from, and its assets under /_ministream/ui-assets. `GET /` leads here.
// Like /_ministream/webhooks/deliveries it sits outside /client/v4 and its auth: it is the
// operator's view of a local emulator, and it reads the stores directly.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../../errors.js';
import { DASHBOARD_CSS, DASHBOARD_JS } from '../../dashboard/assets.js';
import { sectionsJson, type Section } from '../../dashboard/components.js';
import { accountData, DeliveryRefs, videoData } from '../../dashboard/data.js';
import { seg } from '../../dashboard/html.js';
import type { LiveInputDetails } from '../../dashboard/live-inputs.js';
import { CONTENT_SECURITY_POLICY } from '../../dashboard/layout.js';
import { accountFigures, accountPage, accountSections, notFoundPage, overviewPage, overviewSections, videoPage, videoSections, type PageContext } from '../../dashboard/pages.js';
import { DASHBOARD_API, DASHBOARD_PATH, dashboardPaths } from '../../dashboard/paths.js';
import { API_PREFIX } from '../auth.js';
import { Envelope, FailureEnvelope, ok } from '../envelope.js';
import { presentVideo, publicOrigin } from '../present-video.js';
import { Video } from '../schemas/video.js';

const require = createRequire(import.meta.url);

const AccountId = Type.String({ minLength: 1, maxLength: 32 });
const AccountParams = Type.Object({ account_id: AccountId });
const VideoPageParams = Type.Object({ account_id: AccountId, uid: Type.String({ minLength: 1, maxLength: 64 }) });
const OpenQuery = Type.Object({ account: Type.Optional(Type.String({ maxLength: 256 })) });
const SectionsAnswer = Type.Object({
  /** Something is in progress: the page polls every second. */
  busy: Type.Boolean(),
  /** The video's state, on a video page: the page reloads when it settles. */
  state: Type.Optional(Type.String()),
  sections: Type.Record(Type.String(), Type.Array(Type.Object({ key: Type.String(), html: Type.String() }))),
  /** Numbers shown beside titles and in the page's header, by data-count name. */
  counts: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
});
/** The dashboard is a UI, not API: kept out of the OpenAPI document. */
const hide = { hide: true } as const;

/** Where the API docs are, once the docs plugin is registered (it may come after this one). */
const DOCS_PATH = '/_ministream/docs';

/** Request headers of a tus creation that the proxy passes on. */
const TUS_CREATION_HEADERS = ['tus-resumable', 'upload-length', 'upload-defer-length', 'upload-metadata', 'upload-creator'];
const TUS_ANSWER_HEADERS = ['location', 'stream-media-id', 'tus-resumable', 'upload-expires', 'upload-offset', 'upload-length'];

export const dashboardRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = app.ministream;
  const refs = new DeliveryRefs(ctx.keys);
  const tusClient = await readFile(require.resolve('tus-js-client/dist/tus.min.js'));
  const authRequired = ctx.config.apiTokens.length > 0;

  const pageContext = (request: FastifyRequest): PageContext => ({
    origin: publicOrigin(request, ctx.config.publicUrl),
    docsPath: app.hasRoute({ method: 'GET', url: DOCS_PATH }) ? DOCS_PATH : undefined,
  });
  // Headers for the dashboard's own in-process calls to the API: the page's host (URLs in the
  // answer follow it) and, with --api-token, an accepted token.
  const apiHeaders = (request: FastifyRequest): Record<string, string> => ({
    host: request.headers.host ?? 'localhost',
    ...(authRequired ? { authorization: `Bearer ${ctx.config.apiTokens[0]}` } : {}),
  });

  // A live input's ingest URLs are built by the live API (host, ports): asked once per input and
  // host, then kept, so that the page's refreshes do not fill the request log.
  const liveIngest = new Map<string, unknown>();
  const liveDetails = (request: FastifyRequest): LiveInputDetails => async (accountId, uid) => {
    const key = `${request.headers.host}\n${accountId}\n${uid}`;
    if (liveIngest.has(key)) return liveIngest.get(key);
    const answer = await app.inject({ method: 'GET', url: `${API_PREFIX}accounts/${seg(accountId)}/stream/live_inputs/${seg(uid)}`, headers: apiHeaders(request) });
    if (answer.statusCode !== 200) return undefined;
    if (liveIngest.size > 1000) liveIngest.clear();
    const result = (answer.json() as { result?: unknown }).result;
    liveIngest.set(key, result);
    return result;
  };

  const sendPage = (reply: FastifyReply, body: string, status = 200) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .headers({ 'cache-control': 'no-store', 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' })
      .send(body);
  const sendSections = (reply: FastifyReply, sections: Section[], busy: boolean, extra: { state?: string; figures?: Record<string, string | number> } = {}) =>
    reply.header('cache-control', 'no-store').send({ busy, state: extra.state, ...sectionsJson(sections, extra.figures) });
  const asset = (type: string, body: string | Buffer) => async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type(type).headers({ 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' }).send(body);

  app.get('/', { schema: hide }, async (_request, reply) => reply.redirect(DASHBOARD_PATH, 302));

  // ---- pages ----

  app.get(DASHBOARD_PATH, { schema: hide }, async (request, reply) => sendPage(reply, overviewPage(ctx.accounts.list(), pageContext(request))));

  app.get(dashboardPaths.open, { schema: { ...hide, querystring: OpenQuery } }, async (request, reply) => {
    const account = request.query.account?.trim() ?? '';
    return reply.redirect(account && account.length <= 32 ? dashboardPaths.account(account) : DASHBOARD_PATH, 302);
  });

  app.get(`${DASHBOARD_PATH}/accounts/:account_id`, { schema: { ...hide, params: AccountParams } }, async (request, reply) => {
    const { account_id: accountId } = request.params;
    // With --api-token the page cannot call /client/v4 itself: its uploads go through the proxy below.
    const endpoint = authRequired ? dashboardPaths.tusProxy(accountId) : `${API_PREFIX}accounts/${seg(accountId)}/stream`;
    return sendPage(reply, accountPage(await accountData(ctx, refs, accountId, liveDetails(request)), pageContext(request), endpoint));
  });

  app.get(`${DASHBOARD_PATH}/accounts/:account_id/videos/:uid`, { schema: { ...hide, params: VideoPageParams } }, async (request, reply) => {
    const { account_id: accountId, uid } = request.params;
    const page = pageContext(request);
    const data = await videoData(ctx, refs, accountId, uid);
    if (!data) return sendPage(reply, notFoundPage(`Account ${accountId} has no video ${uid}.`, accountId, page), 404);
    return sendPage(reply, videoPage(data, presentVideo(data.video, page.origin), page));
  });

  // ---- JSON for the pages' scripts ----

  const sectionsSchema = { ...hide, response: { 200: SectionsAnswer, '4xx': FailureEnvelope } };

  app.get(`${DASHBOARD_API}/accounts`, { schema: sectionsSchema }, async (request, reply) => {
    const accounts = ctx.accounts.list();
    return sendSections(reply, overviewSections(accounts, pageContext(request)), accounts.some((a) => a.inProgress > 0));
  });

  app.get(`${DASHBOARD_API}/accounts/:account_id`, { schema: { ...sectionsSchema, params: AccountParams } }, async (request, reply) => {
    const data = await accountData(ctx, refs, request.params.account_id, liveDetails(request));
    return sendSections(reply, accountSections(data), data.busy, { figures: accountFigures(data) });
  });

  app.get(
    `${DASHBOARD_API}/accounts/:account_id/videos/:uid/sections`,
    { schema: { ...sectionsSchema, params: VideoPageParams } },
    async (request, reply) => {
      const data = await videoData(ctx, refs, request.params.account_id, request.params.uid);
      if (!data) throw Errors.videoNotFound();
      const json = presentVideo(data.video, publicOrigin(request, ctx.config.publicUrl));
      return sendSections(reply, videoSections(data, json), data.busy, { state: data.video.state });
    },
  );

  // The video object as GET /client/v4/accounts/{account}/stream/{uid} answers it, without API auth.
  app.get(
    `${DASHBOARD_API}/accounts/:account_id/videos/:uid`,
    { schema: { ...hide, params: VideoPageParams, response: { 200: Envelope(Video), '4xx': FailureEnvelope } } },
    async (request, reply) => {
      const video = ctx.videos.get(request.params.account_id, request.params.uid);
      if (!video) throw Errors.videoNotFound();
      reply.header('cache-control', 'no-store');
      return ok(presentVideo(video, publicOrigin(request, ctx.config.publicUrl)));
    },
  );

  // tus creation for the drop zone when --api-token is set: the creation is made with an accepted
  // token as a direct-user upload, whose Location (/tus/<uid>?tusv2=true) needs no token, so the
  // browser sends its chunks there. Without --api-token the page talks to /client/v4 directly.
  app.post(`${DASHBOARD_API}/accounts/:account_id/tus`, { schema: { ...hide, params: AccountParams } }, async (request, reply) => {
    const headers = apiHeaders(request);
    for (const name of TUS_CREATION_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const answer = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}accounts/${seg(request.params.account_id)}/stream?direct_user=true`,
      headers,
    });
    for (const name of TUS_ANSWER_HEADERS) {
      const value = answer.headers[name];
      if (value !== undefined) reply.header(name, value);
    }
    return reply.code(answer.statusCode).type(String(answer.headers['content-type'] ?? 'text/plain; charset=utf-8')).send(answer.rawPayload);
  });

  // ---- assets ----

  app.get(dashboardPaths.css, { schema: hide }, asset('text/css; charset=utf-8', DASHBOARD_CSS));
  app.get(dashboardPaths.script, { schema: hide }, asset('application/javascript; charset=utf-8', DASHBOARD_JS));
  app.get(dashboardPaths.tusClient, { schema: hide }, asset('application/javascript; charset=utf-8', tusClient));
};
