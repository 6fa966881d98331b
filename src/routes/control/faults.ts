// Fault injection (POST/GET/DELETE /_ministream/faults) and the onRequest hook that applies the
// faults, registered in app.ts before auth: a hit request waits `delay_ms`, then answers `status`
// with Cloudflare's failure envelope (or the fault's own `body`), or carries on normally when the
// fault has no status. x-should-retry is false unless the fault says otherwise, so the SDK's
// automatic retries do not hide the failure from the test. /_ministream/* is never faulted, and
// CORS preflights (OPTIONS) only by a fault that names that method.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Fault } from '../../control/faults.js';
import { Errors } from '../../errors.js';
import { Envelope, ok, sendError } from '../envelope.js';
import { controlSchema } from './schemas.js';

const FaultBody = Type.Object({
  method: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'GET, POST, ...; any when absent' })),
  route: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1000,
      description: 'Path pattern: ":name" or "{name}" is one segment, "*" anything; e.g. /client/v4/accounts/:account_id/stream/:identifier. Any path when absent',
    }),
  ),
  status: Type.Optional(Type.Integer({ minimum: 200, maximum: 599, description: 'Answer with this status; without it the request is only delayed' })),
  delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 1 })),
  times: Type.Optional(Type.Integer({ minimum: 1, description: 'Hit this many requests, then the fault is removed; unlimited when absent' })),
  body: Type.Optional(Type.Unknown({ description: "JSON to answer with instead of Cloudflare's failure envelope" })),
  code: Type.Optional(Type.Integer({ description: 'errors[0].code of the failure envelope (default by status)' })),
  message: Type.Optional(Type.String({ maxLength: 1000 })),
  should_retry: Type.Optional(Type.Boolean({ description: 'x-should-retry on 408/409/429/5xx answers (default false)' })),
});

const FaultJson = Type.Object({
  id: Type.String(),
  method: Type.Union([Type.String(), Type.Null()]),
  route: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Integer(), Type.Null()]),
  delay_ms: Type.Integer(),
  probability: Type.Number(),
  times: Type.Union([Type.Integer(), Type.Null()]),
  remaining: Type.Union([Type.Integer(), Type.Null()]),
  hits: Type.Integer(),
  body: Type.Unknown(),
  code: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  should_retry: Type.Boolean(),
  created: Type.String(),
});

const present = (f: Fault): Static<typeof FaultJson> => ({
  id: f.id,
  method: f.method ?? null,
  route: f.route ?? null,
  status: f.status ?? null,
  delay_ms: f.delayMs ?? 0,
  probability: f.probability,
  times: f.times ?? null,
  remaining: f.remaining,
  hits: f.hits,
  body: f.body ?? null,
  code: f.code ?? null,
  message: f.message ?? null,
  should_retry: f.shouldRetry ?? false,
  created: f.created,
});

/** Which fault hit a request (read by the request log). */
const hitBy = new WeakMap<FastifyRequest, string>();

export function faultOf(request: FastifyRequest): string | null {
  return hitBy.get(request) ?? null;
}

export function registerFaultInjection(app: FastifyInstance): void {
  const { faults } = app.ministream.control;
  // Callback style: a request that no fault hits pays one function call, no promise.
  app.addHook('onRequest', (request, reply, done) => {
    const fault = faults.take(request.method, request.url);
    if (!fault) return done();
    hitBy.set(request, fault.id);
    request.log.info({ fault: fault.id, status: fault.status, delayMs: fault.delayMs }, 'control: injected fault');
    const act = () => {
      const s = fault.status;
      if (s === undefined) return done();
      if (fault.body === undefined) return void sendError(reply, Errors.injectedFault(s, fault.message, fault.code, fault.shouldRetry));
      if (s === 408 || s === 409 || s === 429 || s >= 500) reply.header('x-should-retry', String(fault.shouldRetry ?? false));
      reply.code(s).send(fault.body);
    };
    if (fault.delayMs) setTimeout(act, fault.delayMs);
    else act();
  });
}

export const faultRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { faults } = app.ministream.control;

  app.post(
    '/_ministream/faults',
    {
      schema: controlSchema('Inject a fault: a status and/or a delay for matching requests', {
        operationId: 'ministream-faults-create',
        description: 'The oldest matching fault that wins its roll (probability) hits the request. /_ministream/* is never faulted.',
        body: FaultBody,
        response: { 200: Envelope(FaultJson) },
      }),
    },
    async (request) => {
      const b = request.body;
      if (b.status === undefined && !b.delay_ms) throw Errors.validation('a fault needs a status, a delay_ms, or both');
      const fault = faults.add({
        method: b.method,
        route: b.route,
        status: b.status,
        delayMs: b.delay_ms,
        probability: b.probability ?? 1,
        times: b.times,
        body: b.body,
        code: b.code,
        message: b.message,
        shouldRetry: b.should_retry,
      });
      return ok(present(fault));
    },
  );

  app.get(
    '/_ministream/faults',
    { schema: controlSchema('List the active faults', { operationId: 'ministream-faults-list', response: { 200: Envelope(Type.Array(FaultJson)) } }) },
    async () => ok(faults.list().map(present)),
  );

  app.delete(
    '/_ministream/faults/:id',
    {
      schema: controlSchema('Remove one fault', {
        operationId: 'ministream-faults-delete',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Envelope(Type.Object({ id: Type.String() })) },
      }),
    },
    async (request) => {
      if (!faults.remove(request.params.id)) throw Errors.faultNotFound();
      return ok({ id: request.params.id });
    },
  );

  app.delete(
    '/_ministream/faults',
    {
      schema: controlSchema('Remove every fault', { operationId: 'ministream-faults-clear', response: { 200: Envelope(Type.Object({ deleted: Type.Integer() })) } }),
    },
    async () => ok({ deleted: faults.clear() }),
  );
};
