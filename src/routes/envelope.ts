// The one place that builds Cloudflare's v4 response envelope, for success and for failure,
// and turns every error (ours, Fastify's validation and parser errors, the unexpected) into it.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { ApiError, Errors } from '../errors.js';

export interface ResponseMessage {
  code: number;
  message: string;
}

export function ok<T, E extends Record<string, unknown> = Record<never, never>>(result: T, extra?: E) {
  return { result, success: true as const, errors: [] as ResponseMessage[], messages: [] as ResponseMessage[], ...(extra as E) };
}

export function failureBody(err: ApiError) {
  return { result: null, success: false as const, errors: [{ code: err.code, message: err.message }], messages: [] as ResponseMessage[] };
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  // The cloudflare SDK retries 408/409/429/5xx; tell it when a retry cannot help.
  if (err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500) {
    reply.header('x-should-retry', String(err.shouldRetry));
  }
  return reply.code(err.status).type('application/json; charset=utf-8').send(failureBody(err));
}

const MessageSchema = Type.Object({ code: Type.Integer(), message: Type.String() });

/** Response schema of a successful envelope around `result`. */
export function Envelope<T extends TSchema>(result: T) {
  return Type.Object({
    result,
    success: Type.Literal(true),
    errors: Type.Array(MessageSchema),
    messages: Type.Array(MessageSchema),
  });
}

/** Response schema of the failure envelope, declared on every route as its 4XX answer. */
export const FailureEnvelope = Type.Object({
  result: Type.Null(),
  success: Type.Literal(false),
  errors: Type.Array(MessageSchema),
  messages: Type.Array(MessageSchema),
});

/** Maps Fastify's own errors (schema validation, body parsing, limits) into the catalogue. */
function toApiError(error: FastifyError): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const first = error.validation[0];
    const path = first?.instancePath ? `${where}${first.instancePath.replace(/\//g, '.')}` : where;
    return Errors.validation(`${path} ${first?.message ?? 'is invalid'}`.trim());
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.malformedJson();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return Errors.unsupportedMediaType(String(error.message));
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ApiError(413, 10006, 'Request body is too large');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError(status, 10005, error.message);
  return undefined;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(error);
    if (apiError) {
      request.log.debug({ code: apiError.code, status: apiError.status }, apiError.message);
      return sendError(reply, apiError);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(reply, Errors.internal());
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, Errors.noRoute()));
}
