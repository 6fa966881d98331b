// Ministream's own control API (no Cloudflare counterpart): what happened to the webhook deliveries.
// GET /_ministream/webhooks/deliveries?account_id=&video_uid=&state=&limit= lists them, newest
// first, each with its attempts. Like /_ministream/assets, it sits outside /client/v4 and its auth.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DELIVERY_STATES, type DeliveryWithAttempts } from '../store/webhook-store.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { NullableOut } from './schemas/video.js';

const DeliveriesQuery = Type.Object({
  account_id: Type.Optional(Type.String({ minLength: 1 })),
  video_uid: Type.Optional(Type.String({ minLength: 1 })),
  state: Type.Optional(Type.Union(DELIVERY_STATES.map((s) => Type.Literal(s)))),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const Attempt = Type.Object({
  started: Type.String(),
  durationMs: Type.Integer(),
  statusCode: NullableOut(Type.Integer()),
  error: NullableOut(Type.String()),
  /** delivered, retry (another attempt follows) or failed (given up). */
  outcome: Type.String(),
});

const Delivery = Type.Object({
  id: Type.Integer(),
  accountId: Type.String(),
  videoUid: Type.String(),
  event: Type.String(),
  url: Type.String(),
  state: Type.String(),
  attemptCount: Type.Integer(),
  /** When a pending delivery is tried next (RFC 3339); null once it is settled. */
  nextAttemptAt: NullableOut(Type.String()),
  lastError: NullableOut(Type.String()),
  created: Type.String(),
  finished: NullableOut(Type.String()),
  /** The POSTed body, parsed (the exact bytes are what Webhook-Signature covers). */
  payload: Type.Unknown(),
  attempts: Type.Array(Attempt),
});

const present = (d: DeliveryWithAttempts) => ({
  id: d.id,
  accountId: d.accountId,
  videoUid: d.videoUid,
  event: d.event,
  url: d.url,
  state: d.state,
  attemptCount: d.attempts,
  nextAttemptAt: d.state === 'pending' ? new Date(d.nextAttemptAt).toISOString() : null,
  lastError: d.lastError,
  created: d.created,
  finished: d.finished,
  payload: JSON.parse(d.body) as unknown,
  attempts: d.attemptLog,
});

export const ministreamWebhookRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { webhooks } = app.ministream;

  app.get(
    '/_ministream/webhooks/deliveries',
    { schema: { querystring: DeliveriesQuery, response: { 200: Envelope(Type.Array(Delivery)), '4xx': FailureEnvelope } } },
    async (request) => {
      const q = request.query;
      return ok(webhooks.listDeliveries({ accountId: q.account_id, videoUid: q.video_uid, state: q.state, limit: q.limit }).map(present));
    },
  );
};
