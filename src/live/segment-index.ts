// The timeline of a broadcast, for live instant clips (?time=600s&duration=30s) and DVR playlists
// (?dvrEnabled=true): the live playlists slide over their last segments, so while a broadcast is
// on this follows each variant's playlist and appends every new segment to live/<variant>.segments
// ("<name> <seconds>[ d]" per line; "d": a discontinuity, the first segment after a reconnect).
// Every segment stays on disk until the recording is made, so the index names files that exist.
// Media time: a reconnect's gap is not counted.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The playlist lists 10 segments of about 2 s: reading it every second misses none. */
const POLL_MS = 1000;
/** The top rung: the stream as pushed. */
export const TOP_VARIANT = 'v0';

export interface IndexedSegment {
  name: string;
  /** Seconds from the start of the broadcast (media time). */
  start: number;
  duration: number;
  /** The first segment after a reconnect (timestamps start over). */
  discontinuity: boolean;
}

type PlaylistEntry = Omit<IndexedSegment, 'start'>;

const indexFile = (liveDir: string, variant: string) => join(liveDir, `${variant}.segments`);

/** The segments of a media playlist, in order. */
function playlistSegments(text: string): PlaylistEntry[] {
  const out: PlaylistEntry[] = [];
  let duration: number | undefined;
  let discontinuity = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) duration = Number(extinf[1]);
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (duration !== undefined && line && !line.startsWith('#')) {
      out.push({ name: line, duration, discontinuity });
      duration = undefined;
      discontinuity = false;
    }
  }
  return out;
}

/** A variant's segments so far, each with its start. */
export async function readSegmentIndex(liveDir: string, variant: string = TOP_VARIANT): Promise<IndexedSegment[]> {
  const text = await readFile(indexFile(liveDir, variant), 'utf8').catch(() => '');
  const segments: IndexedSegment[] = [];
  let start = 0;
  for (const line of text.split('\n')) {
    const [name, seconds, flag] = line.split(' ');
    const duration = Number(seconds);
    if (!name || !Number.isFinite(duration)) continue;
    segments.push({ name, start, duration, discontinuity: flag === 'd' });
    start += duration;
  }
  return segments;
}

/** Follows the variants' playlists until stopped; the last pass runs after the transcoder has flushed. */
export class SegmentIndexer {
  private timer: NodeJS.Timeout | undefined;
  private readonly known = new Map<string, Set<string>>();
  private pass: Promise<void> = Promise.resolve();

  constructor(
    private readonly liveDir: string,
    /** The variants to follow (v0, v1, ...), each indexed from its <variant>.m3u8. */
    private readonly variants: string[],
  ) {}

  start(): void {
    this.timer = setInterval(() => this.schedule(), POLL_MS);
    this.timer.unref();
  }

  /** Stops following, after one last pass over the playlists as they are now. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.schedule();
    await this.pass;
  }

  private schedule(): void {
    // One pass at a time, so that lines are appended in order.
    this.pass = this.pass.then(() => Promise.all(this.variants.map((v) => this.indexNew(v)))).then(() => undefined, () => undefined);
  }

  private async indexNew(variant: string): Promise<void> {
    let known = this.known.get(variant);
    if (!known) {
      // A reconnect continues the same index: what is in it already is known.
      known = new Set((await readSegmentIndex(this.liveDir, variant)).map((s) => s.name));
      this.known.set(variant, known);
    }
    const text = await readFile(join(this.liveDir, `${variant}.m3u8`), 'utf8').catch(() => '');
    const fresh = playlistSegments(text).filter((s) => !known.has(s.name));
    if (fresh.length === 0) return;
    await appendFile(indexFile(this.liveDir, variant), fresh.map((s) => `${s.name} ${s.duration}${s.discontinuity ? ' d' : ''}\n`).join(''));
    for (const s of fresh) known.add(s.name);
  }
}

/**
 * Where a preview of the last `seconds` starts (Cloudflare's ?duration=5m): the segment that holds
 * that moment, by its position (the same in every variant: they are cut together) and its start.
 */
export function previewStart(index: IndexedSegment[], seconds: number): { position: number; start: number } {
  const end = index.reduce((sum, s) => sum + s.duration, 0);
  const from = Math.max(0, end - seconds);
  const position = Math.max(0, index.findIndex((s) => s.start + s.duration > from));
  return { position, start: index[position]?.start ?? 0 };
}

/** The segments covering [time, time + duration). */
export function segmentsFor(index: IndexedSegment[], time: number, duration: number): IndexedSegment[] {
  const end = time + duration;
  return index.filter((s) => s.start + s.duration > time && s.start < end);
}

/**
 * A media playlist of indexed segments: VOD (an instant clip: fixed, ENDLIST) or EVENT (a DVR
 * playlist, Cloudflare's ?dvrEnabled=true: every segment so far, growing while live, so players
 * can seek back to the start).
 */
export function segmentPlaylist(segments: IndexedSegment[], type: 'VOD' | 'EVENT'): string {
  const target = Math.ceil(Math.max(1, ...segments.map((s) => s.duration)));
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${type}`,
    ...segments.flatMap((s, i) => [...(s.discontinuity && i > 0 ? ['#EXT-X-DISCONTINUITY'] : []), `#EXTINF:${s.duration.toFixed(6)},`, s.name]),
    ...(type === 'VOD' ? ['#EXT-X-ENDLIST'] : []),
    '',
  ].join('\n');
}
