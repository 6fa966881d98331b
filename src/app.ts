// Builds the Fastify application: validation, parsing, CORS, errors, auth and the route plugins.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { MAX_TOKEN_LENGTH } from './access/tokens.js';
import type { MinistreamContext } from './context.js';
import { Errors } from './errors.js';
import { registerAuth, API_PREFIX } from './routes/auth.js';
import { basicUploadRoutes } from './routes/basic-upload.js';
import { registerErrorHandling } from './routes/envelope.js';
import { copyRoutes } from './routes/copy.js';
import { directUploadRoutes, oneTimeUploadRoutes } from './routes/direct-upload.js';
import { deliveryRoutes } from './routes/delivery.js';
import { downloadDeliveryRoutes, downloadRoutes } from './routes/downloads.js';
import { clipRoutes } from './routes/clip.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { captionRoutes } from './routes/captions.js';
import { audioTrackRoutes } from './routes/audio-tracks.js';
import { watermarkRoutes } from './routes/watermarks.js';
import { playerRoutes } from './routes/player.js';
import { thumbnailRoutes } from './routes/thumbnails.js';
import { tusConstraint, tusRoutes } from './routes/tus.js';
import { videoRoutes } from './routes/videos.js';
import { webhookRoutes } from './routes/webhook.js';
import { ministreamWebhookRoutes } from './routes/ministream-webhooks.js';
import { liveInputRoutes } from './routes/live-inputs.js';
import { liveDeliveryRoutes } from './routes/live-delivery.js';
import { webRtcRoutes } from './routes/webrtc.js';
import { dashboardRoutes } from './routes/dashboard/index.js';
import { controlRoutes, registerFaultInjection, registerOpenApi, registerRequestLog } from './routes/control/index.js';

/** Headers a browser may read on our answers (tus clients need Location and stream-media-id). */
export const EXPOSED_HEADERS = ['Location', 'stream-media-id', 'preview-start-seconds', 'protocol-version', 'ETag', 'Upload-Offset', 'Upload-Length', 'Tus-Resumable', 'Upload-Expires'];

function makeAjv(coerceTypes: boolean | 'array') {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats.default(ajv);
  return ajv;
}

export async function buildApp(ctx: MinistreamContext, logger: FastifyServerOptions['logger']): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    // The real API's paths are case-sensitive and tolerate a trailing slash from SDK base URLs.
    // Signed tokens stand in path segments where uids do: allow them their length (and a bit).
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 2 * MAX_TOKEN_LENGTH },
    // Every request gets an id in the logs; large uploads have their own limits.
    bodyLimit: 1024 * 1024,
    // tus HEAD on /stream/:uid must not be shadowed by the automatic HEAD of GET routes.
    exposeHeadRoutes: false,
  });
  app.decorate('ministream', ctx);
  // POST /stream and DELETE /stream/:uid are shared: tus when Tus-Resumable is present.
  app.addConstraintStrategy(tusConstraint);

  // Query strings and params are text and need coercion ("true", "10"); JSON bodies are typed by
  // the client, so a wrong type there is the client's mistake and gets a 400, as it should in tests.
  const queryAjv = makeAjv('array');
  const bodyAjv = makeAjv(false);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema as object),
  );

  // JSON bodies: an empty body is "no body" (the SDK sends content-length 0 on several POSTs);
  // anything unparseable is Cloudflare's 6007.
  const defaultJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    defaultJson(request, body as string, (err, value) => (err ? done(Errors.malformedJson(), undefined) : done(null, value)));
  });

  // API docs (/_ministream/openapi.json, /_ministream/docs): before any route, so that it sees them all.
  await registerOpenApi(app);
  await app.register(cors, { origin: '*', exposedHeaders: EXPOSED_HEADERS, methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] });
  registerErrorHandling(app);
  // Control API hooks: the request log records every answer; injected faults hit before auth.
  registerRequestLog(app);
  registerFaultInjection(app);
  registerAuth(app, ctx.config.apiTokens);

  await app.register(healthRoutes);
  // tus first: its HEAD/PATCH routes share paths with the JSON API.
  await app.register(tusRoutes);
  await app.register(oneTimeUploadRoutes);
  await app.register(deliveryRoutes);
  await app.register(downloadDeliveryRoutes);
  await app.register(playerRoutes);
  await app.register(thumbnailRoutes);
  // Live HLS and player on the same paths while a broadcast is on (a route constraint picks them).
  await app.register(liveDeliveryRoutes);
  await app.register(webRtcRoutes);
  await app.register(ministreamWebhookRoutes);
  // The dashboard (/_ministream/dashboard, and GET / redirects there).
  await app.register(dashboardRoutes);
  await app.register(controlRoutes);
  const streamPrefix = `${API_PREFIX}accounts/:account_id/stream`;
  await app.register(basicUploadRoutes, { prefix: streamPrefix });
  await app.register(directUploadRoutes, { prefix: streamPrefix });
  await app.register(copyRoutes, { prefix: streamPrefix });
  await app.register(keyRoutes, { prefix: streamPrefix });
  // Before the videos: the static /clip must not be read as /:identifier.
  await app.register(clipRoutes, { prefix: streamPrefix });
  await app.register(downloadRoutes, { prefix: streamPrefix });
  await app.register(watermarkRoutes, { prefix: streamPrefix });
  // Before the videos: the static /webhook must not be read as /:identifier.
  await app.register(webhookRoutes, { prefix: streamPrefix });
  await app.register(captionRoutes, { prefix: streamPrefix });
  await app.register(audioTrackRoutes, { prefix: streamPrefix });
  // Before the videos: the static /live_inputs must not be read as /:identifier.
  await app.register(liveInputRoutes, { prefix: streamPrefix });
  await app.register(videoRoutes, { prefix: streamPrefix });
  return app;
}
