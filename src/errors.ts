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
  /** ours (code): Cloudflare documents only "a 4xx" for a one-time URL used twice or too late. */
  uploadUrlUsed: () => new ApiError(409, 10005, 'This one-time upload URL has already been used'),
  uploadUrlExpired: () => new ApiError(410, 10005, 'This one-time upload URL has expired'),
  uploadUrlUnknown: () => new ApiError(404, 10003, 'No upload is waiting at this URL'),
  /** ours (code): a copy source that is not an absolute http(s) URL. */
  invalidSourceUrl: () => new ApiError(400, 10010, 'url must be an absolute http or https URL'),
  /** ours (code): Cloudflare documents only that notificationUrl must be http:// or https://. */
  invalidNotificationUrl: () => new ApiError(400, 10005, 'notificationUrl must be an absolute http or https URL'),
  /** ours (code): GET or DELETE /stream/webhook of an account that has no subscription. */
  webhookNotFound: () => new ApiError(404, 10003, 'No webhook is subscribed for this account'),
  /** Delivery (manifests, segments, thumbnails, player) of a uid that is not there. */
  deliveryNotFound: () => new ApiError(404, 10003, 'Video not found'),
  /** Since 2024-06-11 Cloudflare answers 424 for delivery of a video in state error. */
  deliveryErrored: () => new ApiError(424, 10003, 'The video failed to process and cannot be delivered'),
  /** ours: Cloudflare documents nothing for delivery before a video is ready. */
  deliveryNotReady: () => new ApiError(404, 10003, 'The video is not ready to stream yet'),
  /** ours (statuses and codes): Cloudflare documents none for refused signed URLs or origins. */
  signedUrlRequired: () => new ApiError(401, 10003, 'This video requires a signed URL: use a token in place of its uid'),
  tokenInvalid: () => new ApiError(401, 10003, 'The token is not valid for this video'),
  tokenForbidden: () => new ApiError(403, 10003, 'The token does not allow this viewer'),
  downloadForbidden: () => new ApiError(403, 10003, 'The token does not allow downloads'),
  /** ours (statuses and codes): Cloudflare documents none for downloads and clips refused below. */
  videoNotReadyFor: (action: string) => new ApiError(400, 10005, `The video is not ready yet: ${action} once its status is ready`),
  downloadNotReady: () => new ApiError(404, 10003, 'This download has not been created or is not ready yet'),
  noAudioTrack: () => new ApiError(400, 10005, 'The video has no audio track to download'),
  clipSourceNotFound: () => new ApiError(404, 10003, 'clippedFromVideoUID names no video of this account'),
  clipOutsideSource: (detail: string) => new ApiError(400, 10005, `clip outside the source: ${detail}`),
  originForbidden: () => new ApiError(403, 10003, 'This origin is not allowed to show this video'),
  keyNotFound: () => new ApiError(404, 10003, 'Signing key not found'),
  watermarkNotFound: () => new ApiError(404, 10003, 'Watermark profile not found'),
  /** ours (code): an image Ministream cannot read; Cloudflare documents no image limits. */
  notAnImage: () => new ApiError(400, 10005, 'The watermark file was not recognized as an image (PNG, JPEG, WebP or GIF)'),
  /** ours (statuses and codes): Cloudflare documents none for captions and audio tracks. */
  invalidLanguage: (language: string) => new ApiError(400, 10005, `"${language.slice(0, 64)}" is not a BCP 47 tag of a known language`),
  captionNotFound: () => new ApiError(404, 10003, 'No caption for this language'),
  invalidCaption: (reason: string) => new ApiError(400, 10005, `The caption file is not valid WebVTT: ${reason}`),
  captionTooLarge: (limit: number) => new ApiError(413, 10006, `Caption files are limited to ${limit} bytes`),
  /** Cloudflare: a language that already has a caption cannot be generated until it is deleted. */
  captionExists: () => new ApiError(409, 10005, 'This language already has a caption: delete it before generating one'),
  generateLanguage: (languages: readonly string[]) => new ApiError(400, 10005, `Captions can be generated for ${languages.join(', ')} only`),
  audioTrackNotFound: () => new ApiError(404, 10003, 'Audio track not found'),
  audioLabelTaken: () => new ApiError(409, 10005, 'Another audio track of this video has this label'),
  defaultAudioTrack: () => new ApiError(409, 10005, 'The default audio track cannot be deleted: make another track the default first'),
  notAnAudioFile: () => new ApiError(400, 10005, 'The file was not recognized as audio'),
  audioTooLarge: (limit: number) => new ApiError(413, 10006, `Audio track uploads are limited to ${limit} bytes`),
  /** ours (statuses and codes): Cloudflare documents none for live inputs and outputs. */
  liveInputNotFound: () => new ApiError(404, 10003, 'Live input not found'),
  liveOutputNotFound: () => new ApiError(404, 10003, 'Output not found'),
  /** The SDK documents 409 for an Idempotency-Key whose live input was deleted before the key expired. */
  idempotencyKeyReused: () => new ApiError(409, 10005, 'This Idempotency-Key was used for a live input that has since been deleted'),
  tooManyOutputs: (limit: number) => new ApiError(400, 10005, `A live input has at most ${limit} outputs`),
  invalidOutputUrl: () => new ApiError(400, 10005, 'url must be an rtmp://, rtmps:// or srt:// URL'),
  /** ours (WHIP/WHEP; Cloudflare documents no bodies): a second encoder, nothing to play, an unknown session, no offer. */
  webRtcBusy: () => new ApiError(409, 10005, 'Another encoder is already publishing to this live input over WebRTC'),
  webRtcNotLive: () => new ApiError(404, 10003, 'Nothing is published over WebRTC on this live input'),
  webRtcSessionNotFound: () => new ApiError(404, 10003, 'No such WebRTC session'),
  webRtcNoOffer: () => new ApiError(400, 10005, 'The body must be an SDP offer (Content-Type: application/sdp)'),
  liveInputDisabled: () => new ApiError(403, 10005, 'This live input is disabled'),
  /** ours (control API, /_ministream/*): a hold asked too late, a fault id that is not there. */
  videoAlreadySettled: (state: string) => new ApiError(409, 10005, `The video is already ${state}: hold a video before its encode finishes`),
  faultNotFound: () => new ApiError(404, 10003, 'No fault with this id'),
  /**
   * ours: the failure a test asked for (POST /_ministream/faults). The code follows the status as
   * Cloudflare uses them: 10000 auth, 10003 not found, 971 rate limited, 10002 server, 10005 other.
   */
  injectedFault: (status: number, message?: string, code?: number, shouldRetry = false) =>
    new ApiError(
      status,
      code ?? (status === 401 || status === 403 ? 10000 : status === 404 ? 10003 : status === 429 ? 971 : status >= 500 ? 10002 : 10005),
      message ?? `Injected fault: HTTP ${status}`,
      shouldRetry,
    ),
  /** Cloudflare's answer for a path that no operation serves. */
  noRoute: () => new ApiError(404, 7003, 'No route for the URI'),
  methodNotAllowed: () => new ApiError(405, 7001, 'Method not allowed for this endpoint'),
  internal: () => new ApiError(500, 10002, 'Internal error', true),
} as const;

/**
 * Why a video ended in state `error` (`status.errorReasonCode` / `errorReasonText`). Codes are
 * Cloudflare's; Cloudflare publishes texts only for ERR_NON_VIDEO and ERR_MALFORMED_VIDEO, the
 * other texts are ours.
 */
export const VideoErrorReasons = {
  nonVideo: { code: 'ERR_NON_VIDEO', text: 'The file was not recognized as a valid video file.' },
  malformed: { code: 'ERR_MALFORMED_VIDEO', text: 'The video was deemed to be corrupted or malformed.' },
  durationExceeded: { code: 'ERR_DURATION_EXCEED_CONSTRAINT', text: 'The video is longer than the maxDurationSeconds set for its upload.' },
  durationTooShort: { code: 'ERR_DURATION_TOO_SHORT', text: 'The video is shorter than 0.1 seconds.' },
  fetchOrigin: { code: 'ERR_FETCH_ORIGIN_ERROR', text: 'The video could not be fetched from its URL.' },
  unknown: { code: 'ERR_UNKNOWN', text: 'An unknown error occurred while processing the video.' },
} as const;
export type VideoErrorReason = (typeof VideoErrorReasons)[keyof typeof VideoErrorReasons];
