// Media files on disk: one folder per video under <data-dir>/media/<uid>/.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UID_PATTERN } from './clock.js';

export class MediaStore {
  readonly root: string;
  /** Where incoming uploads are written before they are known to be videos. */
  readonly incomingDir: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'media');
    this.incomingDir = join(dataDir, 'incoming');
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    // Leftovers from a crash mid-upload were never acknowledged: start clean.
    await rm(this.incomingDir, { recursive: true, force: true });
    await mkdir(this.incomingDir, { recursive: true });
  }

  /** The folder of one video. Only ever built from a validated uid, so it cannot leave `root`. */
  videoDir(uid: string): string {
    if (!UID_PATTERN.test(uid)) throw new Error(`not a video uid: ${uid}`);
    return join(this.root, uid);
  }

  /** A fresh path for an incoming upload. */
  incomingPath(name: string): string {
    return join(this.incomingDir, name);
  }

  /** Moves a finished upload into the video's folder; returns the stored file name. */
  async adoptOriginal(uid: string, incomingFile: string, fileName = 'original'): Promise<string> {
    const dir = this.videoDir(uid);
    await mkdir(dir, { recursive: true });
    await rename(incomingFile, join(dir, fileName));
    return fileName;
  }

  async removeVideo(uid: string): Promise<void> {
    await rm(this.videoDir(uid), { recursive: true, force: true });
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }
}
