// Media files on disk: one folder per video under <data-dir>/media/<uid>/.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UID_PATTERN } from './clock.js';

export class MediaStore {
  readonly root: string;
  /** Where incoming uploads are written before they are known to be videos. */
  readonly incomingDir: string;
  /** The tus FileStore's folder: `<uid>` (bytes so far) and `<uid>.json` per unfinished upload. */
  readonly tusDir: string;
  /** Watermark images, one file per profile. */
  readonly watermarksDir: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'media');
    this.incomingDir = join(dataDir, 'incoming');
    this.tusDir = join(dataDir, 'tus');
    this.watermarksDir = join(dataDir, 'watermarks');
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    // Unlike incoming/, tus/ survives restarts: that is what lets uploads resume.
    await mkdir(this.tusDir, { recursive: true });
    await mkdir(this.watermarksDir, { recursive: true });
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

  /** The data file of an unfinished tus upload. */
  tusFile(uid: string): string {
    if (!UID_PATTERN.test(uid)) throw new Error(`not a video uid: ${uid}`);
    return join(this.tusDir, uid);
  }

  /** Removes what the tus FileStore keeps of an upload (its bytes, if still there, and its record). */
  async removeTusUpload(uid: string): Promise<void> {
    await rm(this.tusFile(uid), { force: true });
    await rm(`${this.tusFile(uid)}.json`, { force: true });
  }

  /** Removes everything a video owns on disk: its folder and any unfinished tus upload. */
  async removeVideo(uid: string): Promise<void> {
    await rm(this.videoDir(uid), { recursive: true, force: true });
    await this.removeTusUpload(uid);
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }
}
