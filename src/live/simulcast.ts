// Simulcast: while an input is live, each enabled output gets the stream re-pushed by its own
// ffmpeg (`-c copy`: no decoding), FLV over RTMP(S), or MPEG-TS over SRT. A target that refuses or
// drops the stream is retried with a growing delay; it never affects the input or other outputs.
import { runFfmpeg } from '../transcode/ffmpeg.js';
import type { RunnerLog } from '../transcode/job-runner.js';
import type { LiveOutputRecord } from '../store/live-input-store.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** A push that lasted this long was working: the next failure starts the delays over. */
const HEALTHY_MS = 10_000;

/** Where an output's stream goes: its url joined with its stream key, as encoders join them. */
export function outputTarget(output: Pick<LiveOutputRecord, 'url' | 'streamKey'>): string {
  if (!output.streamKey) return output.url;
  return `${output.url.replace(/\/+$/, '')}/${output.streamKey}`;
}

function muxerFor(url: string): string {
  return /^srt:/i.test(url) ? 'mpegts' : 'flv';
}

export class Simulcast {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly ffmpegPath: string,
    /** The live stream on Ministream's RTMP server. */
    private readonly source: string,
    private readonly log: RunnerLog,
  ) {}

  /** Starts the enabled outputs not yet running, stops the ones gone or disabled. */
  sync(outputs: LiveOutputRecord[]): void {
    const wanted = new Map(outputs.filter((o) => o.enabled).map((o) => [o.uid, o]));
    for (const [uid, controller] of this.running) {
      if (!wanted.has(uid)) {
        controller.abort();
        this.running.delete(uid);
      }
    }
    for (const output of wanted.values()) {
      if (this.running.has(output.uid)) continue;
      const controller = new AbortController();
      this.running.set(output.uid, controller);
      void this.push(output, controller.signal);
    }
  }

  /** Stops every push (the broadcast ended, or the server stops). */
  stop(): void {
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
  }

  private async push(output: LiveOutputRecord, signal: AbortSignal): Promise<void> {
    const target = outputTarget(output);
    let delay = FIRST_RETRY_MS;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await runFfmpeg(this.ffmpegPath, ['-loglevel', 'error', '-rw_timeout', '15000000', '-i', this.source, '-map', '0', '-c', 'copy', '-f', muxerFor(target), target], { signal });
        // The source ended: the broadcast is over.
        this.log.info({ output: output.uid, url: output.url }, 'simulcast: stream ended');
        break;
      } catch (err) {
        if (signal.aborted) break;
        if (Date.now() - started > HEALTHY_MS) delay = FIRST_RETRY_MS;
        this.log.warn({ output: output.uid, url: output.url, err: (err as Error).message, retryInMs: delay }, 'simulcast: output failed');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(MAX_RETRY_MS, delay * 2);
      }
    }
    if (this.running.get(output.uid)?.signal === signal) this.running.delete(output.uid);
  }
}
