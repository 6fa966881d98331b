// What the control API (/_ministream/*) steers, in one object on the context: holds, faults, the
// request log, reset and seed. No HTTP here: src/routes/control/* serve it.
import type { Config } from '../config.js';
import type { Db } from '../store/database.js';
import { resetStore, type ResetSummary } from '../store/reset.js';
import type { IngestDeps } from '../transcode/ingest.js';
import { FaultRegistry } from './faults.js';
import type { HoldRegistry } from './holds.js';
import { RequestLog } from './request-log.js';
import { seedFromFolder, type SeedLog, type SeedResult } from './seed.js';

export interface ResetOptions {
  /** Read the --seed folder again once the reset is done. */
  reseed?: boolean;
}

export interface ResetResult extends ResetSummary {
  /** What the seed folder gave, when a reseed was asked and --seed is set. */
  seeded: SeedResult | null;
}

export interface ControlPlane {
  holds: HoldRegistry;
  faults: FaultRegistry;
  requests: RequestLog;
  /**
   * Everything, or one account's data. A full reset also clears the faults, holds and request
   * log (a fault left by a failed test must not break the next one); an account's reset releases
   * its videos' holds only.
   */
  reset(accountId?: string, options?: ResetOptions): Promise<ResetResult>;
  /** Reads the --seed folder (at start, and on reseed); null without --seed. */
  seed(): Promise<SeedResult | null>;
}

export interface ControlDeps {
  db: Db;
  ingest: IngestDeps;
  config: Pick<Config, 'seed' | 'seedAccount'>;
  log: SeedLog;
  /** The registry the encode job consults (made first, since the job is registered before the rest). */
  holds: HoldRegistry;
}

export function createControlPlane(deps: ControlDeps): ControlPlane {
  const { holds } = deps;
  const faults = new FaultRegistry();
  const requests = new RequestLog();
  const { seed: seedDir, seedAccount } = deps.config;
  // One reset (or seed) at a time: two at once would interleave their file removals.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const seed = () => serialized(async () => (seedDir === undefined ? null : seedFromFolder(deps.ingest, seedDir, seedAccount, deps.log)));

  return {
    holds,
    faults,
    requests,
    seed,
    async reset(accountId, options = {}) {
      const summary = await serialized(() => resetStore(deps.db, deps.ingest.videos, deps.ingest.media, accountId));
      if (accountId === undefined) {
        faults.clear();
        holds.releaseAll();
        requests.clear();
      } else {
        holds.releaseAll(summary.videoUids);
      }
      const reseed = options.reseed === true && (accountId === undefined || accountId === seedAccount);
      return { ...summary, seeded: reseed ? await seed() : null };
    },
  };
}
