// The broadcast timeline behind instant clips and DVR: the indexer follows a sliding live playlist
// (as ffmpeg's HLS muxer rewrites it) and keeps every segment, reconnects included.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSegmentIndex, SegmentIndexer, segmentPlaylist, segmentsFor } from '../src/live/segment-index.js';
import { parseMedia } from './helpers/hls.js';

const dir = mkdtempSync(join(tmpdir(), 'ministream-segment-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A live playlist of the last `size` segments up to `last`, as ffmpeg writes it (2 s each; a discontinuity before `gapAt`). */
function livePlaylist(last: number, size: number, gapAt?: number): string {
  const first = Math.max(0, last - size + 1);
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${first}`];
  for (let n = first; n <= last; n++) {
    if (n === gapAt) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${n === 3 ? '1.5' : '2.000000'},`, `v0-${String(n).padStart(5, '0')}.ts`);
  }
  return `${lines.join('\n')}\n`;
}

describe('the segment index', () => {
  it('keeps every segment of a sliding playlist, with media time and the reconnect discontinuity', async () => {
    const playlist = join(dir, 'v0.m3u8');
    const first = new SegmentIndexer(dir, ['v0']);
    // Two passes over a 3-segment window that slid by 4: nothing is lost, nothing doubled.
    writeFileSync(playlist, livePlaylist(2, 3));
    await first.stop();
    writeFileSync(playlist, livePlaylist(5, 3));
    const again = new SegmentIndexer(dir, ['v0']);
    await again.stop();
    // The encoder reconnected: a new indexer continues the same index.
    writeFileSync(playlist, livePlaylist(7, 3, 6));
    const reconnected = new SegmentIndexer(dir, ['v0']);
    await reconnected.stop();

    const index = await readSegmentIndex(dir, 'v0');
    expect(index.map((s) => s.name)).toEqual(['00000', '00001', '00002', '00003', '00004', '00005', '00006', '00007'].map((n) => `v0-${n}.ts`));
    expect(index.map((s) => s.start)).toEqual([0, 2, 4, 6, 7.5, 9.5, 11.5, 13.5]);
    expect(index.filter((s) => s.discontinuity).map((s) => s.name)).toEqual(['v0-00006.ts']);

    // A clip window maps onto the segments that cover it.
    expect(segmentsFor(index, 5, 3).map((s) => s.name)).toEqual(['v0-00002.ts', 'v0-00003.ts', 'v0-00004.ts']);
    // The DVR playlist lists the whole broadcast and marks the discontinuity; a clip is a closed VOD list.
    const dvr = segmentPlaylist(index, 'EVENT');
    expect(dvr).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(dvr.indexOf('#EXT-X-DISCONTINUITY')).toBeLessThan(dvr.indexOf('v0-00006.ts'));
    expect(dvr.indexOf('#EXT-X-DISCONTINUITY')).toBeGreaterThan(dvr.indexOf('v0-00005.ts'));
    expect(parseMedia(dvr)).toMatchObject({ ended: false, segments: expect.arrayContaining([{ uri: 'v0-00000.ts', duration: 2 }]) });
    expect(parseMedia(segmentPlaylist(index.slice(0, 2), 'VOD')).ended).toBe(true);
  });
});
