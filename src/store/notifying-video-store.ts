// A VideoStore that notices when a video settles (enters `ready` or `error`, by any path: encode
// job, failed upload or copy, malformed input, given-up job) and writes a webhook delivery to the
// outbox in the same SQLite transaction as the state change. Every other call passes straight through.
import type { Db } from './database.js';
import type { WebhookEvent, WebhookStore } from './webhook-store.js';
import type { NewVideo, StorageUsage, VideoListQuery, VideoListResult, VideoPatch, VideoRecord, VideoState, VideoStore } from './video-types.js';

export interface VideoEventHooks {
  /** The webhook body of a video: the same object GET /stream/{uid} returns as `result`. */
  present(video: VideoRecord): unknown;
  /** Called after a delivery was written (on a later tick: the transaction has committed by then). */
  enqueued(): void;
}

const isEvent = (state: VideoState | undefined): state is WebhookEvent => state === 'ready' || state === 'error';

export class NotifyingVideoStore implements VideoStore {
  private readonly settle: (accountId: string, uid: string, patch: VideoPatch) => VideoRecord | undefined;
  private readonly createSettled: (video: NewVideo) => VideoRecord;

  constructor(
    private readonly inner: VideoStore,
    db: Db,
    private readonly webhooks: WebhookStore,
    private readonly hooks: VideoEventHooks,
  ) {
    // better-sqlite3 nests these inside a caller's transaction (as savepoints) when there is one.
    this.settle = db.transaction((accountId: string, uid: string, patch: VideoPatch) => {
      const before = this.inner.get(accountId, uid);
      const after = this.inner.update(accountId, uid, patch);
      if (after && before?.state !== after.state) this.notify(after);
      return after;
    });
    this.createSettled = db.transaction((video: NewVideo) => {
      const created = this.inner.create(video);
      this.notify(created);
      return created;
    });
  }

  /** Writes the delivery if the account has a subscription at this moment. */
  private notify(video: VideoRecord): void {
    if (!isEvent(video.state)) return;
    const hook = this.webhooks.get(video.accountId);
    if (!hook) return;
    this.webhooks.enqueue(hook, video.uid, video.state, JSON.stringify(this.hooks.present(video)));
    queueMicrotask(() => this.hooks.enqueued());
  }

  create(video: NewVideo): VideoRecord {
    return isEvent(video.state) ? this.createSettled(video) : this.inner.create(video);
  }

  update(accountId: string, uid: string, patch: VideoPatch): VideoRecord | undefined {
    // Only a patch that sets a settled state can be an event; progress updates cost nothing extra.
    return isEvent(patch.state) ? this.settle(accountId, uid, patch) : this.inner.update(accountId, uid, patch);
  }

  get(accountId: string, uid: string): VideoRecord | undefined {
    return this.inner.get(accountId, uid);
  }

  findByUid(uid: string): VideoRecord | undefined {
    return this.inner.findByUid(uid);
  }

  list(accountId: string, query: VideoListQuery): VideoListResult {
    return this.inner.list(accountId, query);
  }

  delete(accountId: string, uid: string): boolean {
    return this.inner.delete(accountId, uid);
  }

  storageUsage(accountId: string, creator?: string): StorageUsage {
    return this.inner.storageUsage(accountId, creator);
  }

  dueForDeletion(now: string): VideoRecord[] {
    return this.inner.dueForDeletion(now);
  }
}
