// Progress of long jobs (encode, download, copy) in the log: at info level, each time another
// quarter is done and otherwise at most every few seconds, so a long encode shows it is alive
// without flooding the log of a short one.

export interface ProgressLog {
  info(obj: object, msg: string): void;
}

export const PROGRESS_LOG_INTERVAL_MS = 5000;

/**
 * Returns the function a job calls with each progress figure: a percentage (0..100), or undefined
 * when the total is unknown (a download without Content-Length), with fields to log alongside.
 */
export function progressLogger(log: ProgressLog, msg: string, fields: object, intervalMs = PROGRESS_LOG_INTERVAL_MS) {
  let lastAt = Date.now();
  let lastQuarter = 0;
  return (pct: number | undefined, extra: object = {}): void => {
    const now = Date.now();
    const quarter = pct === undefined ? lastQuarter : Math.floor(pct / 25);
    if (quarter <= lastQuarter && now - lastAt < intervalMs) return;
    lastQuarter = Math.max(quarter, lastQuarter);
    lastAt = now;
    log.info({ ...fields, ...(pct === undefined ? {} : { pct: Math.floor(pct) }), ...extra }, msg);
  };
}
