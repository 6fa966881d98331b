// Periodic clean-up: unfinished uploads past their expiry (files and rows), and videos whose
// scheduledDeletion has come. Runs every --sweep-interval seconds, and once at start.
import { nowTimestamp } from './clock.js';
import type { MediaStore } from './media-store.js';
import type { UploadStore } from './upload-store.js';
import type { VideoStore } from './video-types.js';

export interface SweepResult {
  abandonedUploads: string[];
  scheduledDeletions: string[];
}

export interface SweeperLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;

  constructor(
    private readonly videos: VideoStore,
    private readonly uploads: UploadStore,
    private readonly media: MediaStore,
    private readonly log: SweeperLog,
  ) {}

  /** One pass; concurrent calls share the pass in flight. */
  sweep(now = nowTimestamp()): Promise<SweepResult> {
    this.running ??= this.pass(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(now: string): Promise<SweepResult> {
    const result: SweepResult = { abandonedUploads: [], scheduledDeletions: [] };
    for (const upload of this.uploads.expired(now)) {
      // The row goes first (the uploads row cascades with it), then the bytes.
      this.videos.delete(upload.accountId, upload.uid);
      await this.media.removeVideo(upload.uid);
      result.abandonedUploads.push(upload.uid);
    }
    for (const video of this.videos.dueForDeletion(now)) {
      this.videos.delete(video.accountId, video.uid);
      await this.media.removeVideo(video.uid);
      result.scheduledDeletions.push(video.uid);
    }
    if (result.abandonedUploads.length || result.scheduledDeletions.length) this.log.info(result, 'swept');
    return result;
  }

  start(intervalSeconds: number): void {
    const tick = () => void this.sweep().catch((err: unknown) => this.log.error({ err }, 'sweep failed'));
    tick();
    if (intervalSeconds > 0) {
      this.timer = setInterval(tick, intervalSeconds * 1000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
