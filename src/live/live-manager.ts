// Stream Live on one machine: what happens when an encoder connects to an input, pushes, leaves and
// comes back. State lives in SQLite (the input's status and history, the broadcast's video, the
// webhook outbox, the recording job), written before anything else happens; processes (the live
// transcoder, simulcast pushes) and the reconnect timers live here, in memory. After a restart,
// broadcasts that were cut short wait one reconnect timeout for their encoder, then are recorded.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nowTimestamp, timestampIn } from '../store/clock.js';
import type { LiveInputRecord, LiveInputStore, LiveStatus } from '../store/live-input-store.js';
import type { MediaStore } from '../store/media-store.js';
import type { VideoStore } from '../store/video-types.js';
import type { WebhookStore } from '../store/webhook-store.js';
import type { JobQueue, RunnerLog } from '../transcode/job-runner.js';
import { enqueueLiveEvent, LiveErrors, type LiveError, type LiveEventType } from './live-events.js';
import { LIVE_FILES, planLiveLadder, startLiveTranscoder, type RunningTranscoder } from './live-transcoder.js';
import { LIVE_RECORDING_JOB } from './recording.js';
import { RTMP_APP, RtmpIngest, type IngestHandler, type MediaInfo, type PublishSession } from './rtmp-server.js';
import { SegmentIndexer } from './segment-index.js';
import { Simulcast } from './simulcast.js';
import { SrtListeners } from './srt-listeners.js';
import { WebRtcLive } from './webrtc.js';
import { ViewerCounter } from './viewer-count.js';

export interface LiveConfig {
  /** RTMP port (0: a free one). */
  rtmpPort: number;
  /** Interface the RTMP server listens on (the HTTP server's). */
  host: string;
  /** Seconds an input may stay disconnected before its broadcast ends, when recording.timeoutSeconds is 0. */
  liveTimeoutSeconds: number;
  /** First UDP port of the SRT listeners (0: free ports); null: no SRT ingest. */
  srtPortBase: number | null;
}

export interface LiveDeps {
  config: LiveConfig;
  inputs: LiveInputStore;
  videos: VideoStore;
  media: MediaStore;
  webhooks: WebhookStore;
  queue: JobQueue;
  transaction<T>(fn: () => T): T;
  ffmpegPath: string;
  /** srt-live-transmit, which SRT ingest relays with; null: not installed (SRT is then off). */
  srtLiveTransmitPath: string | null;
  log: RunnerLog & { debug?(obj: object, msg: string): void };
  /** Wakes the webhook deliverer once an event is in the outbox. */
  webhooksEnqueued(): void;
}

/** The input and live video a delivery path names while a broadcast is on. */
export interface LiveTarget {
  inputUid: string;
  videoUid: string;
}

/** An encoder connected to an input. */
interface Broadcast {
  input: LiveInputRecord;
  session: PublishSession;
  /** The broadcast's video (recording.mode automatic), else null. */
  videoUid: string | null;
  /** Captured when the broadcast started: changing it mid-broadcast affects later ones only. */
  deleteAfterDays: number | null;
  simulcast: Simulcast;
  /** Media arrived and was accepted: outputs may be pushed. */
  streaming: boolean;
  transcoder?: RunningTranscoder;
  /** The transcoder of the previous connection of the same broadcast, still flushing. */
  previous: Promise<void>;
  connectedAt: number;
}

/** A broadcast whose encoder left: it goes on if the encoder comes back before the timer. */
interface Waiting {
  accountId: string;
  videoUid: string;
  deleteAfterDays: number | null;
  timer: NodeJS.Timeout;
  /** Settles once the transcoder has written its last segment. */
  flushed: Promise<void>;
}

const PLAYABLE_POLL_MS = 200;
const DAY_MS = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "<input name> 22 Sep 21 22:12 UTC", as Cloudflare names recordings (inferred from its docs' example). */
export function broadcastName(input: LiveInputRecord, at: Date): string {
  const name = typeof input.meta.name === 'string' && input.meta.name ? input.meta.name : input.uid;
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${two(at.getUTCDate())} ${MONTHS[at.getUTCMonth()]} ${two(at.getUTCFullYear() % 100)}`;
  return `${name} ${date} ${two(at.getUTCHours())}:${two(at.getUTCMinutes())} UTC`;
}

export class LiveManager implements IngestHandler {
  private readonly ingest: RtmpIngest;
  /** WHIP publishers and WHEP viewers (src/live/webrtc.ts). */
  readonly webrtc: WebRtcLive;
  /** HLS viewers of each input's broadcast, by their playlist requests. */
  readonly hlsViewers = new ViewerCounter();
  /** SRT ingest and playback, relayed through the RTMP server; undefined when SRT is off. */
  private readonly srt: SrtListeners | undefined;
  private readonly broadcasts = new Map<string, Broadcast>();
  private readonly waiting = new Map<string, Waiting>();
  /** Input uids and live video uids -> the broadcast they name (live, or waiting for its encoder). */
  private readonly targets = new Map<string, LiveTarget>();
  /** Live video uid -> the HLS CODECS of the stream as pushed (ffmpeg cannot name a copied stream's). */
  private readonly codecs = new Map<string, string>();
  private stopping = false;
  /** The RTMP port actually bound (config.rtmpPort, or the free port picked for 0). */
  rtmpPort = 0;

  constructor(private readonly deps: LiveDeps) {
    this.ingest = new RtmpIngest(this, deps.log);
    this.webrtc = new WebRtcLive(deps.log);
    const { srtPortBase, host } = deps.config;
    if (srtPortBase !== null && deps.srtLiveTransmitPath) {
      this.srt = new SrtListeners({
        srtLiveTransmit: deps.srtLiveTransmitPath, ffmpegPath: deps.ffmpegPath, host, portBase: srtPortBase,
        inputs: deps.inputs, rtmpUrl: (key) => this.rtmpUrl(key), log: deps.log,
      });
    }
  }

  /**
   * Picks up cut-short broadcasts and listens for encoders. A taken RTMP port is logged, not fatal:
   * the API (and everything but ingest) keeps working, as when another RTMP server holds 1935.
   */
  async start(): Promise<void> {
    this.recover();
    const { rtmpPort, host } = this.deps.config;
    try {
      this.rtmpPort = await this.ingest.listen(rtmpPort, host);
      this.deps.log.info({ rtmpPort: this.rtmpPort }, `RTMP ingest on rtmp://${host}:${this.rtmpPort}/${RTMP_APP}/`);
    } catch (err) {
      this.rtmpPort = rtmpPort;
      this.deps.log.error({ err: (err as Error).message, rtmpPort }, `RTMP ingest is off: port ${rtmpPort} cannot be used (--rtmp-port)`);
    }
    if (this.srt) await this.srt.start();
    else if (this.deps.config.srtPortBase !== null) this.deps.log.warn({}, 'SRT ingest is off: srt-live-transmit not found (Debian/Ubuntu: apt-get install srt-tools; or set SRT_LIVE_TRANSMIT_PATH)');
  }

  /** Whether live inputs take SRT pushes (srt-live-transmit found, --srt-port-base not off). */
  get srtEnabled(): boolean {
    return this.srt !== undefined;
  }

  /** Cuts every encoder and process. Broadcasts stay live-inprogress in SQLite; the next start picks them up. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    // The transcoders are gathered first: stopping an SRT relay ends its publish, which takes the
    // broadcast out of the map before its transcoder has flushed.
    const exits: Promise<void>[] = [];
    for (const b of this.broadcasts.values()) {
      b.simulcast.stop();
      exits.push(b.previous);
      if (b.transcoder) exits.push(b.transcoder.done);
    }
    await this.srt?.stop();
    await this.webrtc.stop();
    await this.ingest.close();
    await Promise.all(exits);
  }

  /** The broadcast a delivery path's id (input uid or live video uid) names, if one is on. */
  target(id: string): LiveTarget | undefined {
    return this.targets.get(id);
  }

  /** The CODECS attribute of a live video's stream-copied variant, when the encoder's headers told it. */
  codecsOf(videoUid: string): string | undefined {
    return this.codecs.get(videoUid);
  }

  /** Cloudflare's liveViewers: HLS clients seen lately plus WHEP viewers. */
  viewerCount(inputUid: string): number {
    return this.hlsViewers.count(inputUid) + this.webrtc.viewerCount(inputUid);
  }

  /** Whether an encoder is connected to the input right now. */
  isConnected(inputUid: string): boolean {
    return this.broadcasts.has(inputUid);
  }

  /** The URL Ministream's own ffmpeg processes play an input's broadcast from. */
  private sourceUrl(input: LiveInputRecord): string {
    return this.rtmpUrl(input.streamKey);
  }

  /** A stream key's (or playback key's) broadcast on Ministream's RTMP server, from this machine. */
  private rtmpUrl(key: string): string {
    const host = this.deps.config.host;
    const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    return `rtmp://${local}:${this.rtmpPort}/${RTMP_APP}/${key}`;
  }

  // ---- IngestHandler: the RTMP server asks ----

  publish(streamKey: string, session: PublishSession): string | undefined {
    if (this.stopping) return 'the server is shutting down';
    const input = this.deps.inputs.findByStreamKey(streamKey);
    if (!input) return 'unknown stream key';
    if (!input.enabled) return 'this live input is disabled';
    if (this.broadcasts.has(input.uid) || this.webrtc.isLive(input.uid)) return 'another encoder is already connected to this live input';
    const waiting = this.waiting.get(input.uid);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.waiting.delete(input.uid);
    }
    const { videos } = this.deps;
    const videoUid = this.deps.transaction(() => {
      // A reconnect within the timeout goes on with the same video (unless it was deleted meanwhile).
      let uid = waiting && videos.get(waiting.accountId, waiting.videoUid)?.state === 'live-inprogress' ? waiting.videoUid : null;
      const reconnected = uid !== null;
      if (!uid && input.recording.mode === 'automatic') {
        uid = videos.create({
          accountId: input.accountId,
          state: 'live-inprogress',
          type: 'live',
          liveInput: input.uid,
          creator: input.defaultCreator,
          meta: { name: broadcastName(input, new Date()) },
          requireSignedURLs: input.recording.requireSignedURLs,
          allowedOrigins: input.recording.allowedOrigins ?? [],
          size: 0,
        }).uid;
      }
      this.setStatus(input, reconnected ? 'reconnected' : 'connected', uid, 'live_input.connected');
      return uid;
    });
    if (videoUid) {
      this.targets.set(input.uid, { inputUid: input.uid, videoUid });
      this.targets.set(videoUid, { inputUid: input.uid, videoUid });
    }
    this.broadcasts.set(input.uid, {
      input,
      session,
      videoUid,
      deleteAfterDays: waiting && videoUid === waiting.videoUid ? waiting.deleteAfterDays : input.deleteRecordingAfterDays,
      simulcast: new Simulcast(this.deps.ffmpegPath, this.sourceUrl(input), this.deps.log),
      streaming: false,
      previous: waiting && videoUid === waiting.videoUid ? waiting.flushed : Promise.resolve(),
      connectedAt: Date.now(),
    });
    this.deps.log.info({ input: input.uid, video: videoUid, session: session.id, remote: session.remoteAddress, reconnect: Boolean(waiting) }, 'live: encoder connected');
    return undefined;
  }

  media(session: PublishSession, info: MediaInfo): void {
    const b = this.broadcastOf(session);
    if (!b) return;
    // Stream Live takes H.264 video and AAC audio only.
    const wrong = info.videoCodec !== 'h264' ? LiveErrors.videoCodec : info.audioCodec !== null && info.audioCodec !== 'aac' ? LiveErrors.audioCodec : undefined;
    if (wrong) {
      const failure: LiveError = { error: wrong, videoCodec: info.videoCodec, audioCodec: info.audioCodec };
      this.deps.transaction(() => this.event(b.input, 'live_input.errored', failure));
      this.deps.log.warn({ input: b.input.uid, ...info, code: wrong.code }, 'live: unsupported input, disconnecting');
      session.end(wrong.message);
      return;
    }
    b.streaming = true;
    if (b.videoUid && info.codecs) this.codecs.set(b.videoUid, info.codecs);
    b.simulcast.sync(this.deps.inputs.outputs(b.input.uid));
    if (b.videoUid) this.startTranscoder(b, info).catch((err: unknown) => this.deps.log.error({ input: b.input.uid, err }, 'live: the transcoder could not start'));
  }

  publishEnded(session: PublishSession): void {
    const b = this.broadcastOf(session);
    if (!b) return;
    this.broadcasts.delete(b.input.uid);
    b.simulcast.stop();
    // The transcoder saw the end of the stream and flushes its last segment by itself.
    const flushed = b.previous.then(() => b.transcoder?.done);
    if (this.stopping) return; // the next start records the status change and picks the broadcast up
    const input = this.deps.inputs.findByUid(b.input.uid);
    if (input) this.deps.transaction(() => this.setStatus(input, 'client_disconnect', b.videoUid, 'live_input.disconnected'));
    this.deps.log.info({ input: b.input.uid, video: b.videoUid, seconds: Math.round((Date.now() - b.connectedAt) / 1000) }, 'live: encoder disconnected');
    if (!b.videoUid) return;
    // A deleted input blocks its broadcast at once: no reconnect to wait for.
    const seconds = input ? input.recording.timeoutSeconds || this.deps.config.liveTimeoutSeconds : 0;
    this.waitForReconnect(b.input.uid, { accountId: b.input.accountId, videoUid: b.videoUid, deleteAfterDays: b.deleteAfterDays, flushed }, seconds);
  }

  play(name: string): string | undefined {
    // Ministream's own processes play by stream key; viewers by the playback key (rtmpsPlayback).
    return (this.deps.inputs.findByStreamKey(name) ?? this.deps.inputs.findByPlaybackKey(name))?.streamKey;
  }

  // ---- what the API changes ----

  /** A new input: it gets its SRT port and listener. Returns the input as stored. */
  inputCreated(input: LiveInputRecord): Promise<LiveInputRecord> {
    return this.srt ? this.srt.follow(input) : Promise.resolve(input);
  }

  /**
   * An input was updated: a disabled input drops its encoder and closes its SRT port, an enabled one
   * opens it; outputs follow their settings. Returns the input as stored.
   */
  async inputChanged(input: LiveInputRecord): Promise<LiveInputRecord> {
    const b = this.broadcasts.get(input.uid);
    if (!input.enabled) this.webrtc.endInput(input.uid);
    if (b && !input.enabled) b.session.end('this live input was disabled');
    else if (b) this.outputsChanged(input.uid);
    return this.srt ? this.srt.follow(input) : input;
  }

  /** Outputs were added, enabled, disabled or deleted. */
  outputsChanged(inputUid: string): void {
    const b = this.broadcasts.get(inputUid);
    if (b?.streaming) b.simulcast.sync(this.deps.inputs.outputs(inputUid));
  }

  /** An input was deleted: its encoder is cut and its broadcast recorded at once. */
  inputDeleted(inputUid: string): void {
    this.srt?.forget(inputUid);
    this.webrtc.endInput(inputUid);
    const b = this.broadcasts.get(inputUid);
    if (b) {
      b.session.end('this live input was deleted');
      return;
    }
    const w = this.waiting.get(inputUid);
    if (w) {
      clearTimeout(w.timer);
      this.waitForReconnect(inputUid, w, 0);
    }
  }

  /** After a reset: broadcasts and SRT ports of inputs no longer stored end as if the inputs were deleted. */
  inputsRemoved(): void {
    for (const uid of new Set([...this.broadcasts.keys(), ...this.waiting.keys(), ...this.webrtc.liveInputs()])) {
      if (!this.deps.inputs.findByUid(uid)) this.inputDeleted(uid);
    }
    this.srt?.prune();
  }

  // ---- inside ----

  private broadcastOf(session: PublishSession): Broadcast | undefined {
    for (const b of this.broadcasts.values()) if (b.session === session) return b;
    return undefined;
  }

  /** Sets the input's status (and history) and writes its notification; call inside a transaction. */
  private setStatus(input: LiveInputRecord, status: LiveStatus, videoUid: string | null, event: LiveEventType): void {
    this.deps.inputs.setStatus(input.uid, status, videoUid);
    this.event(input, event);
  }

  private event(input: LiveInputRecord, type: LiveEventType, failure?: LiveError): void {
    if (enqueueLiveEvent(this.deps.webhooks, input, type, failure)) queueMicrotask(() => this.deps.webhooksEnqueued());
  }

  private async startTranscoder(b: Broadcast, info: MediaInfo): Promise<void> {
    const videoUid = b.videoUid!;
    const dir = join(this.deps.media.videoDir(videoUid), LIVE_FILES.dir);
    await mkdir(dir, { recursive: true });
    // A reconnect writes into the same playlists: the previous process must have let go of them.
    await b.previous;
    if (this.broadcasts.get(b.input.uid) !== b) return; // gone meanwhile
    const rungs = planLiveLadder(info.width, info.height);
    const transcoder = startLiveTranscoder({
      ffmpegPath: this.deps.ffmpegPath,
      source: this.sourceUrl(b.input),
      outDir: dir,
      rungs,
      hasAudio: info.audioCodec !== null,
      onError: (err) => this.deps.log.error({ input: b.input.uid, video: videoUid, err: err.message }, 'live: transcoder failed'),
    });
    // The broadcast's timeline, for instant clips and DVR: indexed until the transcoder's last segment.
    const indexer = new SegmentIndexer(dir, rungs.map((_, i) => `v${i}`));
    indexer.start();
    b.transcoder = { ...transcoder, done: transcoder.done.then(() => indexer.stop()) };
    this.deps.videos.update(b.input.accountId, videoUid, { inputWidth: info.width || -1, inputHeight: info.height || -1 });
    this.deps.log.info({ input: b.input.uid, video: videoUid, rungs: rungs.map((r) => `${r.width}x${r.height}${r.copy ? ' (copy)' : ''}`) }, 'live: transcoding');
    this.markPlayable(b, join(dir, 'v0.m3u8')).catch((err: unknown) => this.deps.log.error({ input: b.input.uid, err }, 'live: marking the video playable failed'));
  }

  /** The live video is readyToStream once its first segment is listed. */
  private async markPlayable(b: Broadcast, playlist: string): Promise<void> {
    while (this.broadcasts.get(b.input.uid) === b) {
      const text = await readFile(playlist, 'utf8').catch(() => '');
      if (text.includes('#EXTINF')) {
        const video = this.deps.videos.get(b.input.accountId, b.videoUid!);
        if (video && !video.readyToStream) this.deps.videos.update(video.accountId, video.uid, { readyToStream: true, readyToStreamAt: nowTimestamp() });
        this.deps.log.info({ input: b.input.uid, video: b.videoUid, msSinceConnect: Date.now() - b.connectedAt }, 'live: playable');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PLAYABLE_POLL_MS).unref());
    }
  }

  private waitForReconnect(inputUid: string, w: Omit<Waiting, 'timer'>, seconds: number): void {
    const timer = setTimeout(() => {
      this.endBroadcast(inputUid).catch((err: unknown) => this.deps.log.error({ input: inputUid, video: w.videoUid, err }, 'live: ending the broadcast failed'));
    }, seconds * 1000);
    timer.unref();
    this.waiting.set(inputUid, { ...w, timer });
  }

  /** The encoder did not come back: the live video becomes a recording, queued for its job. */
  private async endBroadcast(inputUid: string): Promise<void> {
    const w = this.waiting.get(inputUid);
    if (!w) return;
    this.waiting.delete(inputUid);
    this.targets.delete(inputUid);
    this.targets.delete(w.videoUid);
    this.codecs.delete(w.videoUid);
    await w.flushed;
    if (this.stopping) return;
    this.deps.transaction(() => {
      const video = this.deps.videos.get(w.accountId, w.videoUid);
      if (video?.state !== 'live-inprogress') return;
      this.deps.videos.update(w.accountId, w.videoUid, {
        state: 'queued',
        readyToStream: false,
        readyToStreamAt: null,
        // Cloudflare: when a broadcast ends, the recording's scheduledDeletion is computed from deleteRecordingAfterDays.
        scheduledDeletion: w.deleteAfterDays ? timestampIn(w.deleteAfterDays * DAY_MS) : null,
      });
      this.deps.queue.enqueue({ kind: LIVE_RECORDING_JOB, accountId: w.accountId, videoUid: w.videoUid });
    });
    this.deps.log.info({ input: inputUid, video: w.videoUid }, 'live: broadcast ended, recording queued');
  }

  /** At start: no encoder is connected yet, whatever SQLite last said; cut-short broadcasts wait for theirs. */
  private recover(): void {
    const { inputs } = this.deps;
    for (const input of inputs.connected()) {
      this.deps.transaction(() => this.setStatus(input, 'client_disconnect', null, 'live_input.disconnected'));
    }
    for (const ref of inputs.liveVideos()) {
      const input = inputs.findByUid(ref.inputUid);
      this.targets.set(ref.inputUid, { inputUid: ref.inputUid, videoUid: ref.videoUid });
      this.targets.set(ref.videoUid, { inputUid: ref.inputUid, videoUid: ref.videoUid });
      const seconds = input ? input.recording.timeoutSeconds || this.deps.config.liveTimeoutSeconds : 0;
      this.waitForReconnect(ref.inputUid, { accountId: ref.accountId, videoUid: ref.videoUid, deleteAfterDays: input?.deleteRecordingAfterDays ?? null, flushed: Promise.resolve() }, seconds);
      this.deps.log.info({ input: ref.inputUid, video: ref.videoUid, seconds }, 'live: a broadcast was cut short by the last stop; waiting for its encoder');
    }
  }
}
