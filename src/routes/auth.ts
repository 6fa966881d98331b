// API authentication. By default Ministream accepts any credentials, or none, as a local emulator
// should. With --api-token (repeatable) only those bearer tokens are accepted, so that an app's
// auth handling can be tested; X-Auth-Email/X-Auth-Key are then refused like a wrong token.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../errors.js';
import { sendError } from './envelope.js';

export const API_PREFIX = '/client/v4/';

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1]!.trim() : '';
}

export function registerAuth(app: FastifyInstance, acceptedTokens: string[]): void {
  if (acceptedTokens.length === 0) return;
  const accepted = new Set(acceptedTokens);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(API_PREFIX) || request.method === 'OPTIONS') return;
    const token = bearerToken(request);
    const hasKeyAuth = request.headers['x-auth-key'] !== undefined || request.headers['x-auth-email'] !== undefined;
    if (token === undefined && !hasKeyAuth) return sendError(reply, Errors.authenticationRequired());
    if (token === undefined || !accepted.has(token)) return sendError(reply, Errors.authenticationFailed());
  });
}
