// Holds for tests (POST /_ministream/videos/:uid/hold | release): a held video does not finish.
// The encode job, where it would mark the video ready, waits here while a hold is set, so the
// video stays `inprogress` for as long as a test needs to look at it.
//
// Deliberately in memory, not in SQLite: a hold is a test's momentary wish, not state that should
// outlive the process. After a restart every hold is gone and a held encode simply finishes.

/** What the encode job sees of the registry. */
export interface HoldGate {
  /** Resolves at once when `uid` is not held, else when it is released (or `signal` aborts: rejects). */
  waitWhileHeld(uid: string, signal?: AbortSignal): Promise<void>;
}

export class HoldRegistry implements HoldGate {
  /** Held uids, each with the waiters to wake when it is released. */
  private readonly held = new Map<string, Set<() => void>>();

  hold(uid: string): void {
    if (!this.held.has(uid)) this.held.set(uid, new Set());
  }

  /** Lets a held video continue; false when it was not held. */
  release(uid: string): boolean {
    const waiters = this.held.get(uid);
    if (!waiters) return false;
    this.held.delete(uid);
    for (const wake of waiters) wake();
    return true;
  }

  /** Releases every hold (a full reset), or those of the given uids (an account's reset). */
  releaseAll(uids?: Iterable<string>): void {
    for (const uid of uids ?? [...this.held.keys()]) this.release(uid);
  }

  isHeld(uid: string): boolean {
    return this.held.has(uid);
  }

  list(): string[] {
    return [...this.held.keys()];
  }

  waitWhileHeld(uid: string, signal?: AbortSignal): Promise<void> {
    const waiters = this.held.get(uid);
    if (!waiters) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        waiters.delete(wake);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while held'));
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(wake);
    });
  }
}
