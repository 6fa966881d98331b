// Signing keys and signed-URL tokens: POST/GET /stream/keys, DELETE /stream/keys/:id,
// POST /stream/:identifier/token.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createSigningKey, signToken } from '../access/signing.js';
import { Errors } from '../errors.js';
import { UID_PATTERN } from '../store/clock.js';
import { Envelope, FailureEnvelope, ok } from './envelope.js';
import { AccountParams, DateTime, VideoParams } from './schemas/video.js';

const KeyParams = Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 32 }), identifier: Type.String() });
const CreatedKey = Type.Object({ id: Type.String(), pem: Type.String(), jwk: Type.String(), created: DateTime });
// SDK 7.3 adds key_id next to id.
const ListedKey = Type.Object({ id: Type.String(), key_id: Type.String(), created: DateTime });

const AccessRule = Type.Object({
  type: Type.Union([Type.Literal('any'), Type.Literal('ip.src'), Type.Literal('ip.geoip.country')]),
  action: Type.Union([Type.Literal('allow'), Type.Literal('block')]),
  country: Type.Optional(Type.Array(Type.String({ minLength: 2, maxLength: 2 }))),
  ip: Type.Optional(Type.Array(Type.String())),
});
const TokenBody = Type.Object({
  id: Type.Optional(Type.String()),
  pem: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  nbf: Type.Optional(Type.Integer()),
  downloadable: Type.Optional(Type.Boolean()),
  accessRules: Type.Optional(Type.Array(AccessRule, { maxItems: 5 })),
  flags: Type.Optional(Type.Object({ original: Type.Optional(Type.Boolean()) })),
});

export const keyRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { keys, videos, liveInputs } = app.ministream;

  app.post(
    '/keys',
    { schema: { operationId: 'stream-signing-keys-create-signing-keys', params: AccountParams, response: { 200: Envelope(CreatedKey), '4xx': FailureEnvelope } } },
    async (request) => {
      const created = await createSigningKey(keys, request.params.account_id);
      // The private key is in this answer only, as on Cloudflare.
      return ok({ id: created.record.id, pem: created.pem, jwk: created.jwk, created: created.record.created });
    },
  );

  app.get(
    '/keys',
    { schema: { operationId: 'stream-signing-keys-list-signing-keys', params: AccountParams, response: { 200: Envelope(Type.Array(ListedKey)), '4xx': FailureEnvelope } } },
    async (request) => ok(keys.list(request.params.account_id).map((k) => ({ id: k.id, key_id: k.id, created: k.created }))),
  );

  app.delete(
    '/keys/:identifier',
    { schema: { operationId: 'stream-signing-keys-delete-signing-keys', params: KeyParams, response: { 200: Envelope(Type.String()), '4xx': FailureEnvelope } } },
    async (request) => {
      // Every token signed with it stops working at once: verification looks the key up each time.
      if (!keys.delete(request.params.account_id, request.params.identifier)) throw Errors.keyNotFound();
      return ok('Revoked');
    },
  );

  app.post(
    '/:identifier/token',
    {
      schema: {
        operationId: 'stream-videos-create-signed-url-tokens-for-videos',
        params: VideoParams,
        body: Type.Optional(TokenBody),
        response: { 200: Envelope(Type.Object({ token: Type.String() })), '4xx': FailureEnvelope },
      },
    },
    async (request) => {
      const { account_id, identifier } = request.params;
      if (!UID_PATTERN.test(identifier)) throw Errors.invalidVideoId();
      // A live input's uid signs too: its token plays the input's broadcasts (its recording.requireSignedURLs).
      if (!videos.get(account_id, identifier) && !liveInputs.get(account_id, identifier)) throw Errors.videoNotFound();
      const token = await signToken(keys, account_id, identifier, request.body ?? {});
      return ok({ token });
    },
  );
};
