// Decides from ffprobe's report whether a file is a video Stream would accept, and reads the
// facts the video object shows before encoding: duration and input size.
import { ffprobe, type ProbeResult, type ProbeStream } from './ffmpeg.js';

export interface VideoFacts {
  kind: 'video';
  /** Seconds. */
  duration: number;
  /** Display size, after rotation metadata. */
  width: number;
  height: number;
  rotation: number;
  videoCodec: string;
  audioCodec: string | null;
  formatName: string;
}

export interface NotAVideo {
  kind: 'not-video';
  reason: string;
}

// Still-image demuxers and codecs: ffprobe reports a picture as a one-frame "video" stream.
const IMAGE_FORMATS = /(^|,)(image2|png_pipe|jpeg_pipe|webp_pipe|bmp_pipe|gif|tiff_pipe|svg_pipe|ico|apng)(,|$)|_pipe(,|$)/;
const IMAGE_CODECS = new Set(['png', 'mjpeg', 'bmp', 'gif', 'webp', 'tiff', 'jpeg2000', 'svg', 'apng']);

function rotationOf(stream: ProbeStream): number {
  const fromSideData = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const fromTag = stream.tags?.rotate ? Number(stream.tags.rotate) : undefined;
  const r = fromSideData ?? fromTag ?? 0;
  return ((Math.round(r) % 360) + 360) % 360;
}

/** Pure: classifies a probe report. */
export function classifyProbe(probe: ProbeResult): VideoFacts | NotAVideo {
  const formatName = probe.format.format_name ?? '';
  const video = probe.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) return { kind: 'not-video', reason: 'no video stream' };
  if (IMAGE_FORMATS.test(formatName) || IMAGE_CODECS.has(video.codec_name ?? '')) {
    return { kind: 'not-video', reason: `still image (${formatName || video.codec_name})` };
  }
  const duration = Number(probe.format.duration ?? video.duration ?? NaN);
  if (!Number.isFinite(duration) || duration <= 0) return { kind: 'not-video', reason: 'no duration' };
  const rotation = rotationOf(video);
  const w = video.width ?? -1;
  const h = video.height ?? -1;
  const swap = rotation === 90 || rotation === 270;
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  return {
    kind: 'video',
    duration,
    width: swap ? h : w,
    height: swap ? w : h,
    rotation,
    videoCodec: video.codec_name ?? 'unknown',
    audioCodec: audio?.codec_name ?? null,
    formatName,
  };
}

/** Probes a file; anything ffprobe cannot read is "not a video". */
export async function inspectMedia(ffprobePath: string, file: string): Promise<VideoFacts | NotAVideo> {
  let probe: ProbeResult;
  try {
    probe = await ffprobe(ffprobePath, file);
  } catch (err) {
    return { kind: 'not-video', reason: `ffprobe could not read it: ${(err as Error).message}` };
  }
  return classifyProbe(probe);
}
