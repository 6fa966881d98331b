// API docs: the schemas the routes declare, as OpenAPI 3.1 at /_ministream/openapi.json and as a
// browsable Swagger UI at /_ministream/docs (its assets are served from the npm package: no CDN).
// registerOpenApi must run before any route is registered: @fastify/swagger collects them as they
// are added. Operations are grouped by resource with Cloudflare's own tag names; Ministream's own
// endpoints are tagged as such, and each operation without a summary gets one from its operationId.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export const OPENAPI_JSON_PATH = '/_ministream/openapi.json';
export const DOCS_PATH = '/_ministream/docs';
export const CONTROL_TAG = 'Ministream control';

/** package.json, found from src/routes/control and from dist/routes/control alike. */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const TAGS: { name: string; description: string }[] = [
  { name: 'Stream Videos', description: 'Videos: list, details, edit, delete, uploads (basic, tus, direct, from a URL), tokens, embed code' },
  { name: 'Stream Video Clipping', description: 'Clips of a ready video' },
  { name: 'Stream Signing Keys', description: 'Keys for signed URLs' },
  { name: 'Stream Live Inputs', description: 'Live inputs and their outputs' },
  { name: 'Stream Watermark Profile', description: 'Watermark profiles' },
  { name: 'Stream Webhook', description: "The account's webhook subscription" },
  { name: 'Stream Subtitles/Captions', description: 'Captions: upload, generate, WebVTT' },
  { name: 'Stream MP4 Downloads', description: 'MP4 and M4A downloads' },
  { name: 'Stream Audio Tracks', description: 'Additional audio tracks' },
  { name: 'Delivery', description: "Playback on Ministream's origin: manifests, segments, thumbnails, player, download files" },
  { name: 'Upload endpoints', description: 'Where clients send bytes: tus uploads and one-time direct upload URLs' },
  { name: CONTROL_TAG, description: 'Ministream only, for tests: reset, lifecycle steering, faults, request log, webhook deliveries, config, health' },
];

/** Which resource a path (OpenAPI form, `{param}`) belongs to, by Cloudflare's tag names. */
export function tagOf(path: string): string {
  const stream = /^\/client\/v4\/accounts\/\{[^}]+\}\/stream(\/.*)?$/.exec(path);
  if (stream) {
    const rest = stream[1] ?? '';
    const rules: [RegExp, string][] = [
      [/^\/clip\b/, 'Stream Video Clipping'],
      [/^\/keys\b/, 'Stream Signing Keys'],
      [/^\/live_inputs\b/, 'Stream Live Inputs'],
      [/^\/watermarks\b/, 'Stream Watermark Profile'],
      [/^\/webhook\b/, 'Stream Webhook'],
      [/^\/\{[^}]+\}\/captions\b/, 'Stream Subtitles/Captions'],
      [/^\/\{[^}]+\}\/downloads\b/, 'Stream MP4 Downloads'],
      [/^\/\{[^}]+\}\/audio\b/, 'Stream Audio Tracks'],
    ];
    return rules.find(([re]) => re.test(rest))?.[1] ?? 'Stream Videos';
  }
  if (path.startsWith('/_ministream/') || path === '/healthz') return CONTROL_TAG;
  if (path.startsWith('/tus/') || path.startsWith('/upload/')) return 'Upload endpoints';
  if (/^\/\{[^}]+\}\//.test(path)) return 'Delivery';
  return 'Other';
}

/** Cloudflare's operationIds start with their tag; what follows reads as the summary. */
const ID_PREFIXES = /^(stream-(videos|video-clipping|signing-keys|live-inputs|watermark-profile|webhook|subtitles\/-captions|m-p-4-downloads)-|ministream-)/;

export function summaryOf(operationId: string): string {
  const words = operationId.replace(ID_PREFIXES, '').replace(/-/g, ' ').replace(/\bur ls\b/, 'URLs');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Summaries of operations whose routes declare none (tus and shared routes, health, deliveries). */
function fallbackSummary(method: string, path: string): string | undefined {
  const known: Record<string, string> = {
    'get /healthz': 'Readiness: 200 once the store is migrated and the server accepts requests',
    'get /_ministream/webhooks/deliveries': 'Webhook deliveries, newest first, each with its attempts',
    'delete /tus/{uid}': 'tus: terminate an upload',
  };
  if (known[`${method} ${path}`]) return known[`${method} ${path}`];
  if (method === 'options') return 'CORS preflight (on tus paths: the server\'s tus capabilities)';
  if (method === 'head') return path.includes('/downloads/') ? 'Headers of the download file' : 'tus: the offset of an upload (Upload-Offset)';
  if (method === 'patch' && tagOf(path) !== 'Stream Audio Tracks') return 'tus: append a chunk at Upload-Offset';
  return undefined;
}

/** Paths left out of the document: the docs themselves and static assets. */
const HIDDEN = [/^\/_ministream\/assets\//, /^\/_ministream\/openapi\.json$/, /^\/_ministream\/docs\b/];

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
}

/** Tags, summaries and unique operationIds for every operation of the document (in place). */
export function completeDocument(doc: { paths?: Record<string, Record<string, Operation>> }): void {
  const seen = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (HIDDEN.some((re) => re.test(path))) {
      delete doc.paths![path];
      continue;
    }
    for (const [method, shared] of Object.entries(item)) {
      if (typeof shared !== 'object' || shared === null || !('responses' in shared)) continue; // path-level fields
      // Routes that serve several methods share one operation object: each method gets its own.
      const op = (item[method] = { ...shared });
      op.tags = op.tags?.length ? op.tags : [tagOf(path)];
      op.summary ??= fallbackSummary(method, path);
      if (!op.operationId || seen.has(op.operationId)) {
        const base = `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '-')}`.replace(/-$/, '');
        op.operationId = seen.has(base) ? `${base}-${seen.size}` : base;
      }
      seen.add(op.operationId);
      op.summary ??= summaryOf(op.operationId);
    }
  }
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ministream',
        version: VERSION,
        description:
          "A local emulator of the Cloudflare Stream API. The Stream API lives under /client/v4 as on Cloudflare (any token works unless --api-token is set); delivery uses Cloudflare's paths on Ministream's origin; /_ministream/* is Ministream's own control API for tests.",
      },
      tags: TAGS,
    },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      completeDocument(documentObject.openapiObject as Parameters<typeof completeDocument>[0]);
      return documentObject.openapiObject;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    // The page loads the document from ./json (the same as /_ministream/openapi.json); without a
    // validatorUrl it never calls validator.swagger.io: everything stays local.
    uiConfig: { docExpansion: 'list', deepLinking: true },
  });
  app.get(OPENAPI_JSON_PATH, { schema: { hide: true } }, async () => app.swagger());
}
