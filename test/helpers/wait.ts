// Polling for state that changes in the background (copies, encodes), bounded in time.
export async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The states a video may show once its upload has landed: it is `queued` when the upload is
 * answered, and the encode job may already have moved it on by the time a test looks.
 */
export const LANDED_STATES = ['queued', 'inprogress', 'ready'];
