// Thumbnails made on demand from a video's original upload with ffmpeg, and cached on disk:
// still images (JPEG, PNG, WebP) and animated GIFs. No HTTP here: src/routes/thumbnails.ts serves them.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaStore } from '../store/media-store.js';
import type { VideoRecord } from '../store/video-types.js';
import { runFfmpeg } from './ffmpeg.js';

export type ThumbnailFormat = 'jpg' | 'png' | 'webp' | 'gif';
/** How a frame goes into a box given by both width and height (Cloudflare's four values). */
export type Fit = 'crop' | 'clip' | 'scale' | 'fill';

export interface ThumbnailRequest {
  format: ThumbnailFormat;
  /** Seconds from the start; default: the video's thumbnailTimestampPct of its duration. */
  timeSeconds?: number;
  width?: number;
  height?: number;
  fit: Fit;
  /** GIF only: seconds of video to animate (default 5). */
  durationSeconds?: number;
  /** GIF only: frames per second (default 8). */
  fps?: number;
}

/** Width when the request names neither width nor height (ours: Cloudflare documents 640x640 crop). */
export const DEFAULT_WIDTH = 640;
export const GIF_DEFAULT_DURATION = 5;
export const GIF_DEFAULT_FPS = 8;
/** A seek this close to the end still finds a frame (a seek past the last frame yields none). */
const END_MARGIN_SECONDS = 0.1;
const FFMPEG_TIMEOUT_MS = 60_000;

/** Encoder options of the still formats. Both ffmpeg builds we ship with (Debian 5.1 and the npm
 *  static one) have libwebp; ffmpeg has no WebP encoder of its own, so with an FFMPEG_PATH build
 *  lacking libwebp a .webp request fails (500) while the other formats still work. */
const STILL_CODECS: Record<Exclude<ThumbnailFormat, 'gif'>, string[]> = {
  jpg: ['-c:v', 'mjpeg', '-q:v', '3'],
  png: ['-c:v', 'png'],
  webp: ['-c:v', 'libwebp', '-quality', '80'],
};

/** The request with every default applied: equal keys mean equal images. */
interface Normalized {
  format: ThumbnailFormat;
  time: number;
  width?: number;
  height?: number;
  fit?: Fit;
  duration?: number;
  fps?: number;
}

/** `defaultPct`: where the frame is taken without a time (a fraction of `duration`). */
function normalize(duration: number, defaultPct: number, req: ThumbnailRequest): Normalized {
  // Cloudflare: 0 is the first frame and 1 the last; a time past the end gets the last frame too.
  const wanted = req.timeSeconds ?? defaultPct * duration;
  const time = Math.round(Math.max(0, Math.min(wanted, duration - END_MARGIN_SECONDS)) * 1000) / 1000;
  const size =
    req.width === undefined && req.height === undefined
      ? { width: DEFAULT_WIDTH }
      : // fit only matters when both sides are given.
        { width: req.width, height: req.height, fit: req.width && req.height ? req.fit : undefined };
  const gif = req.format === 'gif' ? { duration: req.durationSeconds ?? GIF_DEFAULT_DURATION, fps: req.fps ?? GIF_DEFAULT_FPS } : {};
  return { format: req.format, time, ...size, ...gif };
}

/** The filter chain that sizes the frame. setsar=1: square pixels, so the size asked is the size shown. */
function sizeFilter(n: Pick<Normalized, 'width' | 'height' | 'fit'>): string {
  const { width: w, height: h } = n;
  if (w === undefined || h === undefined) return `scale=${w ?? -1}:${h ?? -1},setsar=1`; // the other side by aspect
  switch (n.fit) {
    case 'scale':
      return `scale=${w}:${h},setsar=1`;
    case 'clip': // the whole frame inside the box; one side may come out smaller
      return `scale=${w}:${h}:force_original_aspect_ratio=decrease,setsar=1`;
    case 'fill': // the whole frame inside the box, padded with black to the exact box
      return `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black,setsar=1`;
    default: // crop: cover the box, cut the overflow around the centre
      return `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1`;
  }
}

/**
 * ffmpeg's arguments: from `n.time` (input seek, fast), or, with `atSeekFailure`, for when that
 * seek found no frame: a still then takes the video's last frame (every frame is decoded and
 * written over the last one, slow but rare), a GIF starts at the beginning.
 */
function ffmpegArgs(source: string, n: Normalized, out: string, atSeekFailure = false): string[] {
  const seek = atSeekFailure ? [] : ['-ss', String(n.time)];
  const size = sizeFilter(n);
  if (n.format !== 'gif') {
    const frames = atSeekFailure ? [] : ['-frames:v', '1'];
    return [...seek, '-i', source, '-an', '-vf', size, ...frames, ...STILL_CODECS[n.format], '-f', 'image2', '-update', '1', out];
  }
  // Two passes in one graph: a palette made from these very frames, then used to quantize them.
  const graph = `fps=${n.fps},${size},split[a][b];[a]palettegen[p];[b][p]paletteuse`;
  // -loop 0: play forever.
  return [...seek, '-t', String(n.duration), '-i', source, '-an', '-filter_complex', graph, '-loop', '0', '-f', 'gif', out];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.size > 0, () => false);
}

export class ThumbnailService {
  /** Images being made, by `<uid>/<key>`: concurrent identical requests share one ffmpeg run. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly ffmpegPath: string,
    private readonly media: MediaStore,
    private readonly maxPerVideo = 64,
  ) {}

  /** Absolute path of the cached image for this request, made first if needed. */
  async get(video: VideoRecord, req: ThumbnailRequest): Promise<string> {
    if (!video.sourceFile) throw new Error(`video ${video.uid} has no original to take thumbnails from`);
    const dir = this.media.videoDir(video.uid);
    return this.fromSource(join(dir, video.sourceFile), join(dir, 'thumbnails'), video.duration > 0 ? video.duration : 0, video.thumbnailTimestampPct, req);
  }

  /**
   * A thumbnail of any media ffmpeg reads (a video's original, a live broadcast's segment list) of
   * `duration` seconds, cached in `dir`; without a time, at `defaultPct` of the duration.
   */
  async fromSource(source: string, dir: string, duration: number, defaultPct: number, req: ThumbnailRequest): Promise<string> {
    const n = normalize(duration, defaultPct, req);
    const key = createHash('sha1').update(JSON.stringify(n)).digest('hex');
    const file = join(dir, `${key}.${n.format}`);
    const flightKey = `${dir}/${key}`;
    // Registered before any await, so that an identical request arriving meanwhile joins this one.
    let job = this.inFlight.get(flightKey);
    if (!job) {
      job = this.cachedOrMade(source, n, dir, file).finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, job);
    }
    return job;
  }

  private async cachedOrMade(source: string, n: Normalized, dir: string, file: string): Promise<string> {
    if (await exists(file)) {
      // The mtime is the last use: eviction removes the least recently used first.
      const now = new Date();
      await utimes(file, now, now);
      return file;
    }
    return this.make(source, n, dir, file);
  }

  private async make(source: string, n: Normalized, dir: string, file: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    // Written under a hidden temporary name and renamed: a half-written image is never served.
    const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp.${n.format}`);
    try {
      await runFfmpeg(this.ffmpegPath, ffmpegArgs(source, n, tmp), { timeoutMs: FFMPEG_TIMEOUT_MS });
      // A seek past the last video frame writes nothing, exit code 0: the container's duration
      // (which the clamp uses) may be the audio's, longer than the video's.
      if (!(await exists(tmp))) {
        await runFfmpeg(this.ffmpegPath, ffmpegArgs(source, n, tmp, true), { timeoutMs: FFMPEG_TIMEOUT_MS });
      }
      if (!(await exists(tmp))) throw new Error(`ffmpeg produced no frame for a thumbnail of ${source}`);
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
    await this.evict(dir);
    return file;
  }

  /** Keeps at most maxPerVideo images in `dir`, removing the least recently used. */
  private async evict(dir: string): Promise<void> {
    const names = (await readdir(dir)).filter((name) => !name.startsWith('.'));
    if (names.length <= this.maxPerVideo) return;
    const files = await Promise.all(
      names.map(async (name) => ({ path: join(dir, name), used: await stat(join(dir, name)).then((s) => s.mtimeMs, () => 0) })),
    );
    files.sort((a, b) => a.used - b.used);
    await Promise.all(files.slice(0, files.length - this.maxPerVideo).map((f) => rm(f.path, { force: true })));
  }
}
