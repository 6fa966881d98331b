// Live input notifications (connected, disconnected, errored) in the shape of Cloudflare's
// "Stream Live Input" notifications (shared/reference/stream-behavior.md §5), written to the same
// durable webhook outbox as video events, inside the caller's transaction.
//
// Deliberate differences: Cloudflare sends these through account Notifications (a separate
// destination, authenticated by a `cf-webhook-auth` header carrying its secret as is). Ministream
// has no Notifications API, so they go to the account's Stream webhook (PUT /stream/webhook),
// signed with Webhook-Signature like every other delivery, and retried the same way.
import type { WebhookEvent, WebhookStore } from '../store/webhook-store.js';
import type { LiveInputRecord } from '../store/live-input-store.js';

export type LiveEventType = 'live_input.connected' | 'live_input.disconnected' | 'live_input.errored';

/** Cloudflare's errored codes (ERR_STORAGE_QUOTA_EXHAUSTED and ERR_GOP_OUT_OF_RANGE are never raised here). */
export const LiveErrors = {
  videoCodec: { code: 'ERR_UNSUPPORTED_VIDEO_CODEC', message: 'The input video codec is not supported: push H.264.' },
  audioCodec: { code: 'ERR_UNSUPPORTED_AUDIO_CODEC', message: 'The input audio codec is not supported: push AAC.' },
} as const;

export interface LiveError {
  error: { code: string; message: string };
  videoCodec: string | null;
  audioCodec: string | null;
}

const TEXT: Record<LiveEventType, string> = {
  'live_input.connected': 'A live input connected',
  'live_input.disconnected': 'A live input disconnected',
  'live_input.errored': 'A live input encountered an error',
};

export function liveNotification(input: LiveInputRecord, type: LiveEventType, at: Date, failure?: LiveError) {
  return {
    // The name of the Notifications destination on Cloudflare; Ministream has one destination per account.
    name: 'Ministream Stream webhook',
    text: `${TEXT[type]}: ${input.uid}`,
    data: {
      notification_name: 'Stream Live Input',
      input_id: input.uid,
      event_type: type,
      updated_at: at.toISOString(),
      ...(failure
        ? { live_input_errored: { error: failure.error, video_codec: failure.videoCodec, audio_codec: failure.audioCodec } }
        : {}),
    },
    ts: Math.floor(at.getTime() / 1000),
  };
}

/**
 * Writes the notification to the outbox if the account has a webhook; true if it did. Call it in the
 * transaction of the status change. The outbox row names the input where video events name a video.
 */
export function enqueueLiveEvent(webhooks: WebhookStore, input: LiveInputRecord, type: LiveEventType, failure?: LiveError): boolean {
  const hook = webhooks.get(input.accountId);
  if (!hook) return false;
  const body = JSON.stringify(liveNotification(input, type, new Date(), failure));
  // The store types its events as the two video states; its `event` column is free text and the
  // deliverer sends any body. (Widening WebhookEvent in webhook-store.ts would remove this cast.)
  webhooks.enqueue(hook, input.uid, type as unknown as WebhookEvent, body);
  return true;
}
