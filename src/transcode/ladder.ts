// The rendition ladder and the one ffmpeg command that makes it (pure functions, no I/O).
// One process decodes once, splits and scales to every rung at or below the input, and writes
// fMP4 (CMAF) segments shared by a DASH manifest and HLS playlists in the same pass
// (shared/reference/ffmpeg-bench.md: the fastest correct ladder on 2 cores).
import type { VideoFacts } from './inspect.js';

export interface Rung {
  /** The short side, as in "720p" (height for landscape, width for portrait). */
  name: number;
  width: number;
  height: number;
  /** Video bitrate, kbit/s. */
  kbps: number;
}

/** Cloudflare does not publish its ladder; these follow its recommended input bitrates, 240p-1080p. */
export const LADDER: readonly { name: number; kbps: number }[] = [
  { name: 1080, kbps: 4500 },
  { name: 720, kbps: 2500 },
  { name: 480, kbps: 1200 },
  { name: 360, kbps: 700 },
  { name: 240, kbps: 400 },
];

export const SEGMENT_SECONDS = 4;
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'] as const;
export type X264Preset = (typeof X264_PRESETS)[number];

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

/**
 * Every rung at or below the input's short side (never upscale), sizes keeping the aspect ratio and
 * even (H.264 with 4:2:0 needs even sizes). Portrait videos are sized against their width, as
 * Cloudflare does since 2024-08-15. An input below 240p gets one rung at its own size.
 */
export function planLadder(width: number, height: number): Rung[] {
  const portrait = height > width;
  const short = portrait ? width : height;
  const long = portrait ? height : width;
  const rungs = LADDER.filter((r) => r.name <= short);
  const chosen = rungs.length ? rungs : [{ name: even(short), kbps: LADDER.at(-1)!.kbps }];
  return chosen.map((r) => {
    const s = even(r.name);
    const l = even((long * r.name) / short);
    return { name: r.name, width: portrait ? s : l, height: portrait ? l : s, kbps: r.kbps };
  });
}

export interface EncodePlan {
  rungs: Rung[];
  /** True when the video stream is copied, not encoded (fast mode on H.264 input). */
  copy: boolean;
  args: string[];
}

/** A watermark to burn into every rendition (Cloudflare's profile fields). */
export interface Overlay {
  image: string;
  /** 0 transparent .. 1 opaque. */
  opacity: number;
  /** Distance from the edges, as a fraction of the video's width and height. */
  padding: number;
  /** The image's width as a fraction of the video's width; 0 keeps its own size. */
  scale: number;
  position: 'upperRight' | 'upperLeft' | 'lowerLeft' | 'lowerRight' | 'center';
}

export interface EncodeOptions {
  mode: 'full' | 'fast';
  watermark?: Overlay;
  preset: X264Preset;
  /** File names written next to the manifest. */
  manifestName: string;
  masterName: string;
}

/** The DASH + HLS (CMAF) muxer options shared by every plan. */
function cmafOutput(outDir: string, hasAudio: boolean, opts: EncodeOptions): string[] {
  return [
    '-f', 'dash',
    '-seg_duration', String(SEGMENT_SECONDS),
    '-use_template', '1',
    '-use_timeline', '0',
    '-hls_playlist', '1',
    '-hls_master_name', opts.masterName,
    '-adaptation_sets', hasAudio ? 'id=0,streams=v id=1,streams=a' : 'id=0,streams=v',
    '-init_seg_name', 'init-$RepresentationID$.m4s',
    '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s',
    `${outDir}/${opts.manifestName}`,
  ];
}

const AUDIO = ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'];

export function planEncode(input: string, outDir: string, facts: VideoFacts, opts: EncodeOptions): EncodePlan {
  const hasAudio = facts.audioCodec !== null;
  const audioMap = hasAudio ? ['-map', '0:a:0'] : [];
  if (opts.mode === 'fast') {
    // Fast mode: one rendition; already H.264 (+ AAC) input is stream-copied, not encoded.
    const copyable = facts.videoCodec === 'h264' && (!hasAudio || facts.audioCodec === 'aac') && facts.rotation === 0 && !opts.watermark;
    const rung: Rung = { name: Math.min(facts.width, facts.height), width: even(facts.width), height: even(facts.height), kbps: LADDER.at(-1)!.kbps };
    if (copyable) {
      return {
        rungs: [{ ...rung, width: facts.width, height: facts.height }],
        copy: true,
        args: ['-i', input, '-map', '0:v:0', ...audioMap, '-c', 'copy', ...cmafOutput(outDir, hasAudio, opts)],
      };
    }
    return { rungs: [rung], copy: false, args: ladderArgs(input, outDir, [rung], facts, opts) };
  }
  const rungs = planLadder(facts.width, facts.height);
  return { rungs, copy: false, args: ladderArgs(input, outDir, rungs, facts, opts) };
}

/** Overlay filters: the image scaled and faded, placed on the source before it is split. */
function overlayFilters(o: Overlay, videoWidth: number): string[] {
  const p = o.padding;
  const width = o.scale > 0 ? `${2 * Math.max(1, Math.round((videoWidth * o.scale) / 2))}` : 'iw';
  const x = { left: `${p}*main_w`, right: `main_w-overlay_w-${p}*main_w`, center: '(main_w-overlay_w)/2' };
  const y = { top: `${p}*main_h`, bottom: `main_h-overlay_h-${p}*main_h`, center: '(main_h-overlay_h)/2' };
  // Cloudflare: `center` ignores padding.
  const [px, py] = {
    upperRight: [x.right, y.top],
    upperLeft: [x.left, y.top],
    lowerLeft: [x.left, y.bottom],
    lowerRight: [x.right, y.bottom],
    center: [x.center, y.center],
  }[o.position];
  return [
    `[1:v]format=rgba,scale=${width}:-1,colorchannelmixer=aa=${o.opacity}[wm]`,
    `[0:v][wm]overlay=x=${px}:y=${py}:eof_action=repeat[src]`,
  ];
}

function ladderArgs(input: string, outDir: string, rungs: Rung[], facts: VideoFacts, opts: EncodeOptions): string[] {
  const hasAudio = facts.audioCodec !== null;
  const overlay = opts.watermark ? overlayFilters(opts.watermark, facts.width) : [];
  const source = opts.watermark ? '[src]' : '[0:v]';
  const split = `${source}split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')}`;
  // Every rung keeps the source's display aspect ratio exactly (rounding to even sizes would
  // otherwise change it slightly, and the DASH muxer refuses rungs of different aspect ratios).
  const dar = `${facts.width}/${facts.height}`;
  const scales = rungs.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setdar=${dar}[v${i}]`);
  const perRung = rungs.flatMap((r, i) => [
    `-b:v:${i}`, `${r.kbps}k`,
    `-maxrate:v:${i}`, `${Math.round(r.kbps * 1.1)}k`,
    `-bufsize:v:${i}`, `${r.kbps * 2}k`,
  ]);
  return [
    '-i', input,
    ...(opts.watermark ? ['-i', opts.watermark.image] : []),
    '-filter_complex', [...overlay, split, ...scales].join(';'),
    ...rungs.flatMap((_, i) => ['-map', `[v${i}]`]),
    ...(hasAudio ? ['-map', '0:a:0'] : []),
    '-c:v', 'libx264',
    '-preset', opts.preset,
    '-pix_fmt', 'yuv420p',
    // A keyframe every 4 s whatever the frame rate, so every rung cuts its segments at the same times.
    '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`,
    '-sc_threshold', '0',
    ...perRung,
    ...(hasAudio ? AUDIO : []),
    ...cmafOutput(outDir, hasAudio, opts),
  ];
}
