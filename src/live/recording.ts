// The `live-recording` job: a broadcast that ended (recording.mode automatic) becomes a normal
// video. Its top rung's live segments, in order, are joined into one original by a stream copy
// (ffmpeg's concat demuxer also joins the pieces of a broadcast that reconnected), and the video
// goes down the upload path from there: probed, queued, encoded, ready.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg, FfmpegError } from '../transcode/ffmpeg.js';
import { completePendingVideo, type IngestDeps } from '../transcode/ingest.js';
import { JobFailure, type JobHandler, type RunnerLog } from '../transcode/job-runner.js';
import { LIVE_FILES, recordedSegments } from './live-transcoder.js';

export const LIVE_RECORDING_JOB = 'live-recording';

export interface RecordingDeps extends IngestDeps {
  ffmpegPath: string;
  log: RunnerLog;
}

export function recordingHandler(deps: RecordingDeps): JobHandler {
  return async (job, signal) => {
    const video = deps.videos.get(job.accountId, job.videoUid);
    if (!video || video.state !== 'queued') return; // deleted meanwhile, or already past this step
    const liveDir = join(deps.media.videoDir(video.uid), LIVE_FILES.dir);
    if (video.sourceFile) {
      await rm(liveDir, { recursive: true, force: true }); // the original was made before a stop
      return;
    }
    const segments = await recordedSegments(liveDir);
    if (segments.length === 0) {
      // The encoder left before a single segment was cut: there is nothing to keep.
      deps.videos.delete(video.accountId, video.uid);
      await deps.media.removeVideo(video.uid);
      deps.log.info({ uid: video.uid }, 'live recording: nothing was recorded, video removed');
      return;
    }
    const list = join(liveDir, 'recording.txt');
    await writeFile(list, segments.map((name) => `file '${name}'\n`).join(''));
    const original = deps.media.incomingPath(`${video.uid}-recording.mp4`);
    try {
      await runFfmpeg(deps.ffmpegPath, ['-loglevel', 'error', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy', '-movflags', '+faststart', original], { signal });
    } catch (err) {
      await rm(original, { force: true });
      if (signal.aborted) throw err;
      throw new JobFailure(`joining the live segments failed: ${err instanceof FfmpegError ? err.stderrTail.trim().split('\n').pop() : (err as Error).message}`, true);
    }
    await completePendingVideo(deps, { video, file: original, size: await deps.media.size(original), refuseNonVideo: false });
    await rm(liveDir, { recursive: true, force: true });
    deps.log.info({ uid: video.uid, segments: segments.length }, 'live recording: queued for encoding');
  };
}
