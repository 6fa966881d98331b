// The one error catalogue. Every failure Ministream reports goes through an ApiError built here,
// and src/routes/envelope.ts renders it as Cloudflare's v4 failure envelope
// {result:null, success:false, errors:[{code,message}], messages:[]}.
// Codes follow Cloudflare where ../shared/reference (or Cloudflare's own public errors) gives one;
// the few we had to choose are marked "ours".

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** The cloudflare SDK retries 408/409/429/5xx unless told not to; false when a retry cannot help. */
    readonly shouldRetry = false,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const Errors = {
  /** No credentials where --api-token requires them. */
  authenticationRequired: () => new ApiError(401, 10000, 'Authentication error'),
  /** Credentials given but not one of the accepted tokens. */
  authenticationFailed: () => new ApiError(403, 10000, 'Authentication error'),
  /** Unknown video uid (Cloudflare answers 404 for a uid it does not hold for the account). */
  videoNotFound: () => new ApiError(404, 10003, 'Not Found'),
  /** The request is well-formed JSON but breaks the operation's schema. */
  validation: (message: string) => new ApiError(400, 10005, message),
  invalidVideoId: () => new ApiError(400, 10005, 'Invalid video id'),
  /** Cloudflare's code for a body that is not JSON. */
  malformedJson: () => new ApiError(400, 6007, 'Malformed JSON in request body'),
  /** ours: a content type the operation does not take. */
  unsupportedMediaType: (type: string) => new ApiError(415, 10005, `Unsupported Content-Type "${type}" for this operation`),
  /** Since 2023-01-04 a basic upload of a non-video file is refused at once with 400 / 10059. */
  notAVideo: () => new ApiError(400, 10059, 'The file was not recognized as a valid video file.'),
  /** ours (code): Cloudflare documents 413 for basic uploads over 200 MB but not the code. */
  uploadTooLarge: (limit: number) => new ApiError(413, 10006, `Basic uploads are limited to ${limit} bytes; use a tus upload for larger files`),
  missingFile: () => new ApiError(400, 10005, 'A multipart/form-data body with a "file" field is required'),
  /** Cloudflare's answer for a path that no operation serves. */
  noRoute: () => new ApiError(404, 7003, 'No route for the URI'),
  methodNotAllowed: () => new ApiError(405, 7001, 'Method not allowed for this endpoint'),
  internal: () => new ApiError(500, 10002, 'Internal error', true),
} as const;
