// The control API for tests, under /_ministream/ (outside /client/v4 and its auth, never a path
// of Cloudflare's): one plugin per resource. The hooks that apply faults and record requests, and
// the OpenAPI docs, are registered by app.ts itself (they must come before the routes).
import type { FastifyPluginAsync } from 'fastify';
import { configRoutes } from './config.js';
import { faultRoutes } from './faults.js';
import { lifecycleRoutes } from './lifecycle.js';
import { requestLogRoutes } from './requests.js';
import { resetRoutes } from './reset.js';

export { registerFaultInjection } from './faults.js';
export { registerRequestLog } from './requests.js';
export { registerOpenApi } from './openapi.js';

export const controlRoutes: FastifyPluginAsync = async (app) => {
  await app.register(resetRoutes);
  await app.register(lifecycleRoutes);
  await app.register(faultRoutes);
  await app.register(requestLogRoutes);
  await app.register(configRoutes);
};
