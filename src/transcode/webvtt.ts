// WebVTT, the one caption format Stream takes: a validator for uploads and a writer for generated
// captions (pure functions, no I/O).

export interface Cue {
  /** Seconds. */
  start: number;
  end: number;
  text: string;
}

export class WebVttError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebVttError';
  }
}

/** `hh:mm:ss.mmm` (hours of two or more digits) or `mm:ss.mmm`. */
const TIMESTAMP = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;
const TIMING = /^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+.*)?$/;

function seconds(stamp: string): number | undefined {
  const m = TIMESTAMP.exec(stamp);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

/**
 * Bytes to text: UTF-8 only, as WebVTT requires; a leading BOM is dropped and line ends become LF.
 * (FormData sends a text field's line ends as CRLF, so an SDK upload would otherwise not read back
 * as it was given; WebVTT parsers treat both alike.)
 */
export function decodeWebVtt(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new WebVttError('the file is not UTF-8 text');
  }
  return text.replace(/\r\n?/g, '\n');
}

/**
 * Checks a WebVTT file the way a player's parser would read it: the `WEBVTT` signature (after an
 * optional BOM), then blocks separated by blank lines, each a NOTE, STYLE or REGION block or a cue
 * whose timing line (an optional identifier line first) reads `start --> end` with valid times
 * and end not before start. Returns the number of cues; throws WebVttError saying what is wrong.
 */
export function validateWebVtt(input: string): number {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (text.includes('\0')) throw new WebVttError('the file contains NUL characters');
  const [header = '', ...blocks] = text.split(/\n{2,}/);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(header.split('\n')[0]!)) {
    throw new WebVttError('a WebVTT file must start with "WEBVTT"');
  }
  let cues = 0;
  for (const block of blocks) {
    const lines = block.split('\n');
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) continue;
    if (/^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(lines[0]!)) continue;
    const timingAt = lines[0]!.includes('-->') ? 0 : 1;
    const timing = lines[timingAt];
    const m = timing === undefined ? null : TIMING.exec(timing);
    if (!m) throw new WebVttError(`cue ${cues + 1} has no "start --> end" timing line: "${lines[0]!.slice(0, 80)}"`);
    const start = seconds(m[1]!);
    const end = seconds(m[2]!);
    if (start === undefined || end === undefined) {
      throw new WebVttError(`cue ${cues + 1} has a malformed timestamp (hh:mm:ss.mmm or mm:ss.mmm): "${timing!.slice(0, 80)}"`);
    }
    if (end < start) throw new WebVttError(`cue ${cues + 1} ends before it starts: "${timing!.slice(0, 80)}"`);
    cues += 1;
  }
  return cues;
}

/** Seconds as a WebVTT timestamp, hh:mm:ss.mmm. */
export function vttTimestamp(totalSeconds: number): string {
  const ms = Math.max(0, Math.round(totalSeconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** A WebVTT file of `cues`, with an optional NOTE block after the signature. */
export function writeWebVtt(cues: readonly Cue[], note?: string): string {
  const parts = ['WEBVTT'];
  if (note) parts.push(`NOTE ${note.replace(/\n{2,}/g, '\n').replace(/-->/g, '->')}`);
  cues.forEach((cue, i) => parts.push(`${i + 1}\n${vttTimestamp(cue.start)} --> ${vttTimestamp(cue.end)}\n${cue.text}`));
  return `${parts.join('\n\n')}\n`;
}
