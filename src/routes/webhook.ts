// The account's webhook subscription: PUT, GET and DELETE /stream/webhook (singular: one per account).
// Paths are relative to /client/v4/accounts/:account_id/stream.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import type { Webhook } from '../store/webhook-store.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { AccountParams, DateTime } from './schemas/video.js';

// SDK 7.3 sends notificationUrl, and also accepts notification_url; neither is required there.
const WebhookBody = Type.Object({
  notificationUrl: Type.Optional(Type.String()),
  notification_url: Type.Optional(Type.String()),
});
// Untyped in the 2024 schema; SDK 7.3 types it so.
const WebhookResult = Type.Object({ notificationUrl: Type.String(), modified: DateTime, secret: Type.String() });

/**
 * Only http:// and https:// URLs, as on Cloudflare. Deliberate difference: Cloudflare will not
 * deliver to localhost or private addresses; Ministream does, since that is where a local receiver lives.
 */
function notificationUrl(body: { notificationUrl?: string; notification_url?: string } | undefined): string {
  const raw = body?.notificationUrl ?? body?.notification_url;
  if (raw === undefined) throw Errors.validation('body.notificationUrl is required');
  const protocol = URL.canParse(raw) ? new URL(raw).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') throw Errors.invalidNotificationUrl();
  return raw;
}

const present = (hook: Webhook) => ({ notificationUrl: hook.notificationUrl, modified: hook.modified, secret: hook.secret });

export const webhookRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { webhooks } = app.ministream;
  const response = { 200: Envelope(WebhookResult), '4xx': FailureEnvelope };

  app.put(
    '/webhook',
    { schema: { operationId: 'stream-webhook-create-webhooks', params: AccountParams, body: Type.Optional(WebhookBody), response } },
    async (request) => ok(present(webhooks.put(request.params.account_id, notificationUrl(request.body)))),
  );

  app.get(
    '/webhook',
    { schema: { operationId: 'stream-webhook-view-webhooks', params: AccountParams, response } },
    async (request) => {
      const hook = webhooks.get(request.params.account_id);
      if (!hook) throw Errors.webhookNotFound();
      return ok(present(hook));
    },
  );

  app.delete(
    '/webhook',
    { schema: { operationId: 'stream-webhook-delete-webhooks', params: AccountParams, response: { 200: Envelope(Type.String()), '4xx': FailureEnvelope } } },
    async (request) => {
      if (!webhooks.delete(request.params.account_id)) throw Errors.webhookNotFound();
      // Cloudflare's schema gives "ok" as the example result.
      return ok('ok');
    },
  );
};
