// GET /_ministream/config: the effective configuration (flags, environment, defaults merged), with
// the accepted API tokens masked.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { Envelope, ok } from '../envelope.js';
import { controlSchema } from './schemas.js';

export const configRoutes: FastifyPluginAsync = async (app) => {
  const { config } = app.ministream;
  app.get(
    '/_ministream/config',
    {
      schema: controlSchema('The effective configuration (tokens masked)', {
        operationId: 'ministream-config',
        response: { 200: Envelope(Type.Record(Type.String(), Type.Unknown())) },
      }),
    },
    async () => {
      const shown: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(config)) shown[key] = value ?? null;
      shown.apiTokens = config.apiTokens.map(() => '********');
      return ok(shown);
    },
  );
};
