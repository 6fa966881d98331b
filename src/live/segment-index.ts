// The timeline of a broadcast, for live instant clips (?time=600s&duration=30s): the live playlists
// slide over their last segments, so while a broadcast is on this follows the top rung's playlist
// and appends each new segment with its duration to live/segments.txt ("<name> <seconds>" per
// line). Every segment stays on disk until the recording is made, so the index names files that
// exist. Media time: a reconnect's gap is not counted.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const INDEX_FILE = 'segments.txt';
/** The playlist lists 10 segments of about 2 s: reading it every second misses none. */
const POLL_MS = 1000;

export interface IndexedSegment {
  name: string;
  /** Seconds from the start of the broadcast (media time). */
  start: number;
  duration: number;
}

/** The segments of a playlist, in order: [name, duration]. */
function playlistSegments(text: string): [string, number][] {
  const out: [string, number][] = [];
  let duration: number | undefined;
  for (const line of text.split('\n')) {
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) duration = Number(extinf[1]);
    else if (duration !== undefined && line && !line.startsWith('#')) {
      out.push([line.trim(), duration]);
      duration = undefined;
    }
  }
  return out;
}

/** The broadcast's segments so far, each with its start. */
export async function readSegmentIndex(liveDir: string): Promise<IndexedSegment[]> {
  const text = await readFile(join(liveDir, INDEX_FILE), 'utf8').catch(() => '');
  const segments: IndexedSegment[] = [];
  let start = 0;
  for (const line of text.split('\n')) {
    const [name, seconds] = line.split(' ');
    const duration = Number(seconds);
    if (!name || !Number.isFinite(duration)) continue;
    segments.push({ name, start, duration });
    start += duration;
  }
  return segments;
}

/** Follows a playlist until stopped; the last pass runs after the transcoder has flushed. */
export class SegmentIndexer {
  private timer: NodeJS.Timeout | undefined;
  private known: Set<string> | undefined;
  private pass: Promise<void> = Promise.resolve();

  constructor(
    private readonly liveDir: string,
    /** The top rung's playlist name (v0.m3u8). */
    private readonly playlist: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.schedule(), POLL_MS);
    this.timer.unref();
  }

  /** Stops following, after one last pass over the playlist as it is now. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.schedule();
    await this.pass;
  }

  private schedule(): void {
    // One pass at a time, so that lines are appended in order.
    this.pass = this.pass.then(() => this.indexNew()).catch(() => undefined);
  }

  private async indexNew(): Promise<void> {
    // A reconnect continues the same index: what is in it already is known.
    this.known ??= new Set((await readSegmentIndex(this.liveDir)).map((s) => s.name));
    const text = await readFile(join(this.liveDir, this.playlist), 'utf8').catch(() => '');
    const fresh = playlistSegments(text).filter(([name]) => !this.known!.has(name));
    if (fresh.length === 0) return;
    await appendFile(join(this.liveDir, INDEX_FILE), fresh.map(([name, d]) => `${name} ${d}\n`).join(''));
    for (const [name] of fresh) this.known.add(name);
  }
}

/** The segments covering [time, time + duration), or none when the window starts past the end. */
export function segmentsFor(index: IndexedSegment[], time: number, duration: number): IndexedSegment[] {
  const end = time + duration;
  return index.filter((s) => s.start + s.duration > time && s.start < end);
}
