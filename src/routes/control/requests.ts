// The request log: an onResponse hook (registered in app.ts) records every answered request in
// memory (src/control/request-log.ts); GET /_ministream/requests reads the last ones, newest first,
// DELETE clears them. Ministream's own requests (/_ministream/*, /healthz) are kept apart and shown
// only with include_control=true.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../envelope.js';
import { faultOf } from './faults.js';
import { AccountId, controlSchema } from './schemas.js';

const RequestsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  method: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  path_prefix: Type.Optional(Type.String({ minLength: 1 })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  account_id: Type.Optional(AccountId),
  include_control: Type.Optional(Type.Boolean({ default: false, description: "Also Ministream's own requests (/_ministream/*, /healthz)" })),
});

const Entry = Type.Object({
  id: Type.Integer(),
  time: Type.String({ description: 'When the request arrived (RFC 3339)' }),
  method: Type.String(),
  url: Type.String(),
  path: Type.String(),
  status: Type.Integer(),
  durationMs: Type.Number(),
  accountId: Type.Union([Type.String(), Type.Null()]),
  fault: Type.Union([Type.String(), Type.Null()], { description: 'The injected fault that hit it' }),
});

export function registerRequestLog(app: FastifyInstance): void {
  const { requests } = app.ministream.control;
  app.addHook('onResponse', (request, reply, done) => {
    const ms = reply.elapsedTime;
    requests.record({ startMs: Date.now() - ms, method: request.method, url: request.url, status: reply.statusCode, durationMs: Math.round(ms * 10) / 10, fault: faultOf(request) });
    done();
  });
}

export const requestLogRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { requests } = app.ministream.control;

  app.get(
    '/_ministream/requests',
    {
      schema: controlSchema('The last requests answered (method, path, status, duration), newest first', {
        operationId: 'ministream-requests-list',
        description: `Kept in memory, the last ${requests.capacity} of the app's requests.`,
        querystring: RequestsQuery,
        response: { 200: Envelope(Type.Array(Entry)) },
      }),
    },
    async (request) => {
      const q = request.query;
      return ok(
        requests.list({ limit: q.limit, method: q.method, pathPrefix: q.path_prefix, status: q.status, accountId: q.account_id, includeControl: q.include_control }),
      );
    },
  );

  app.delete(
    '/_ministream/requests',
    { schema: controlSchema('Clear the request log', { operationId: 'ministream-requests-clear', response: { 200: Envelope(Type.Object({ cleared: Type.Boolean() })) } }) },
    async () => {
      requests.clear();
      return ok({ cleared: true });
    },
  );
};
