// --seed DIR: at start, every media file in DIR becomes a video of the seed account, through the
// same ingest path as an upload (probe, queued, encode job). Each file is seeded once: the video
// remembers it in meta (`name` = the file name, `seededFrom` = the file name, `seededSize` = its
// bytes), and a file whose name and size a video of the account already carries is skipped, so a
// restart over the same data folder does not duplicate anything. Subfolders are not read.
import { randomBytes } from 'node:crypto';
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ApiError } from '../errors.js';
import { ingestNewVideo, type IngestDeps } from '../transcode/ingest.js';

/** Extensions taken as media files; anything else in the folder is ignored. */
export const SEED_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.ts', '.mts', '.m2ts', '.flv', '.mpg', '.mpeg', '.ogv', '.3gp', '.wmv', '.mxf']);

export interface SeedResult {
  ingested: { file: string; uid: string }[];
  /** Already seeded (same name and size). */
  skipped: string[];
  /** Not a video to ffprobe, or unreadable. */
  refused: string[];
}

export interface SeedLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

function alreadySeeded(deps: IngestDeps, accountId: string, name: string, size: number): boolean {
  const { videos } = deps.videos.list(accountId, { videoName: name, limit: 1000 });
  return videos.some((v) => v.meta.seededFrom === name && v.meta.seededSize === String(size));
}

export async function seedFromFolder(deps: IngestDeps, dir: string, accountId: string, log: SeedLog): Promise<SeedResult> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`--seed: cannot read the folder ${dir}: ${err.code ?? err.message}`);
  });
  const files = entries
    .filter((e) => e.isFile() && SEED_EXTENSIONS.has(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();
  const result: SeedResult = { ingested: [], skipped: [], refused: [] };
  for (const name of files) {
    const source = join(dir, name);
    const { size } = await stat(source);
    if (alreadySeeded(deps, accountId, name, size)) {
      result.skipped.push(name);
      continue;
    }
    // Ingest moves its file into the video's folder: it gets a copy, the seed folder stays as it is.
    const copy = deps.media.incomingPath(`seed-${randomBytes(6).toString('hex')}`);
    try {
      await copyFile(source, copy);
      const video = await ingestNewVideo(deps, { accountId, file: copy, size, options: { meta: { name, seededFrom: name, seededSize: String(size) } } });
      result.ingested.push({ file: name, uid: video.uid });
    } catch (err) {
      await rm(copy, { force: true });
      result.refused.push(name);
      log.warn({ file: source, reason: err instanceof ApiError ? err.message : String(err) }, 'seed: file not ingested');
    }
  }
  log.info({ dir, accountId, ingested: result.ingested.length, skipped: result.skipped.length, refused: result.refused.length }, 'seed: folder read');
  return result;
}
