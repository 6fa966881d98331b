// Live viewer counts (Cloudflare: GET /<input id>/views -> {"liveViewers": N}). An HLS viewer is a
// client (its address and user agent) that asked for one of a broadcast's playlists lately: players
// refresh the playlist every segment (2 s here), so one gone quiet for VIEWER_WINDOW_MS has left.
// WHEP viewers are counted by their sessions (src/live/webrtc.ts).

/** A client that has not asked for a playlist for this long no longer counts. */
export const VIEWER_WINDOW_MS = 30_000;

export class ViewerCounter {
  /** Input uid -> client -> when it last asked. */
  private readonly seen = new Map<string, Map<string, number>>();

  /** A client asked for a playlist of the input's broadcast. */
  saw(inputUid: string, client: string, now = Date.now()): void {
    let clients = this.seen.get(inputUid);
    if (!clients) {
      clients = new Map();
      this.seen.set(inputUid, clients);
    }
    clients.set(client, now);
    // Forgotten here too, not only when counted: nobody may ever ask /views.
    if (clients.size > 64) this.count(inputUid, now);
  }

  /** Clients that asked within the window (the others are forgotten). */
  count(inputUid: string, now = Date.now()): number {
    const clients = this.seen.get(inputUid);
    if (!clients) return 0;
    for (const [client, at] of clients) if (now - at > VIEWER_WINDOW_MS) clients.delete(client);
    if (clients.size === 0) this.seen.delete(inputUid);
    return clients.size;
  }
}
