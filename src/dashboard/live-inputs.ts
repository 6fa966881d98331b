// Live inputs as the dashboard shows them. The live store comes with issue 7: when the context
// has `liveInputs` with a `list(accountId)`, its records are read defensively, in either the
// store's shape or the API's (`rtmps: {url, streamKey}`, `srt`, `webRTC`, `status`); without it
// the dashboard has no live section. Ingest URLs are the API's to build (host, ports): records
// without them get them from `details`, the API's object for the input.
import type { MinistreamContext } from '../context.js';

export interface IngestUrl {
  /** rtmps, srt, webRTC, ... as the record names it. */
  protocol: string;
  url: string;
  /** What an encoder needs besides the URL (streamKey; SRT's streamId and passphrase), as the record names it. */
  secrets: { name: string; value: string }[];
}

export interface LiveInputView {
  uid: string;
  name: string | null;
  status: string;
  enabled: boolean | null;
  created: string | null;
  ingest: IngestUrl[];
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

function statusOf(record: Loose): string {
  const status = record.status;
  if (typeof status === 'string' && status) return status;
  if (isObject(status)) {
    const current = status.current;
    if (isObject(current) && str(current.state)) return current.state as string;
    if (str(status.state)) return status.state as string;
  }
  // Stream's status is null while no encoder has connected.
  return str(record.state) ?? (status === null ? 'idle' : 'unknown');
}

/** Ingest endpoints: nested objects with a `url` (not the *Playback ones, which are for viewers). */
function ingestOf(record: Loose): IngestUrl[] {
  const out: IngestUrl[] = [];
  for (const [protocol, value] of Object.entries(record)) {
    if (/playback/i.test(protocol) || !isObject(value)) continue;
    const url = str(value.url);
    if (!url) continue;
    const secrets = ['streamKey', 'streamId', 'passphrase'].flatMap((name) => {
      const secret = str(value[name]);
      return secret ? [{ name, value: secret }] : [];
    });
    out.push({ protocol, url, secrets });
  }
  return out;
}

function toView(record: unknown): LiveInputView | undefined {
  if (!isObject(record)) return undefined;
  const uid = str(record.uid) ?? str(record.id);
  if (!uid) return undefined;
  const meta = isObject(record.meta) ? record.meta : {};
  return {
    uid,
    name: str(meta.name) ?? str(record.name),
    status: statusOf(record),
    enabled: typeof record.enabled === 'boolean' ? record.enabled : null,
    created: str(record.created),
    ingest: ingestOf(record),
  };
}

/** The API's object for a live input (it carries the ingest URLs), or undefined. */
export type LiveInputDetails = (accountId: string, uid: string) => Promise<unknown>;

/** The account's live inputs, or undefined when this Ministream has no live store (yet). */
export async function liveInputsOf(ctx: MinistreamContext, accountId: string, details?: LiveInputDetails): Promise<LiveInputView[] | undefined> {
  const store = (ctx as unknown as { liveInputs?: unknown }).liveInputs;
  if (typeof store !== 'object' || store === null) return undefined;
  const list = (store as { list?: unknown }).list;
  if (typeof list !== 'function') return undefined;
  let answer: unknown;
  try {
    // The store may list synchronously (SQLite) or not; either answer is awaited.
    answer = await (list as (accountId: string) => unknown).call(store, accountId);
  } catch {
    return undefined;
  }
  const records = Array.isArray(answer) ? answer : isObject(answer) ? [answer.liveInputs, answer.items].find(Array.isArray) ?? [] : [];
  const views = (records as unknown[]).map(toView).filter((v): v is LiveInputView => v !== undefined);
  if (details) {
    await Promise.all(
      views.map(async (view) => {
        if (view.ingest.length) return;
        const full = toView(await details(accountId, view.uid).catch(() => undefined));
        if (full) view.ingest = full.ingest;
      }),
    );
  }
  return views;
}
