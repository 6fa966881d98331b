// SRT ingest. An encoder pushes MPEG-TS over SRT, in caller mode as Cloudflare requires, with the
// input's passphrase; Ministream relays the stream into its own RTMP ingest, so that everything
// after the connection (status, live HLS, recording, simulcast, events) is the RTMP path's.
//
// Deliberate difference from Cloudflare: Cloudflare takes every input on one port (778) and tells
// them apart by streamid. The relay here is Haivision's srt-live-transmit (Debian: srt-tools),
// which takes one stream per port and cannot route by streamid, so each input has its own UDP port
// (the `srt.url` of the input names it; the streamid is not checked, the passphrase is). ffmpeg's
// own SRT listener was measured losing most of a live stream on loopback (ffmpeg 5.1.9, libsrt
// 1.5.1: 3.5 s of an 8 s push arrived), srt-live-transmit lost none of it; hence the relay.
//
// An idle input costs one UDP socket, not a process: a Node socket holds the port, and the first
// packet of a caller (its handshake, which SRT callers repeat every 250 ms) makes us hand the port
// to srt-live-transmit, whose listener then answers the repeat. When the caller leaves,
// srt-live-transmit exits (-a:no) and the port goes back to the Node socket.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { LiveInputRecord, LiveInputStore } from '../store/live-input-store.js';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import type { RunnerLog } from '../transcode/job-runner.js';

/** How long srt-live-transmit waits for a caller after a knock (a port scan, a refused passphrase). */
const CONNECT_WAIT_SECONDS = 10;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export interface SrtIngestDeps {
  /** Path of srt-live-transmit. */
  srtLiveTransmit: string;
  ffmpegPath: string;
  /** Interface to listen on (the HTTP server's). */
  host: string;
  /** First port to give out; 0: free ports picked by the system. */
  portBase: number;
  inputs: Pick<LiveInputStore, 'enabledInputs' | 'findByUid' | 'srtPorts' | 'setSrtPort'>;
  /** Where an input's stream is republished: Ministream's own RTMP ingest, with the input's stream key. */
  rtmpUrl(input: LiveInputRecord): string;
  log: RunnerLog;
}

/** One input's SRT port: a Node socket while idle, srt-live-transmit and the relay while a caller is on. */
class SrtListener {
  private socket: Socket | undefined;
  private stopRelay: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delay = FIRST_RETRY_MS;
  private closed = false;
  /** Settles once no process of this listener runs. */
  idle: Promise<void> = Promise.resolve();

  constructor(
    readonly input: LiveInputRecord,
    readonly port: number,
    private readonly deps: SrtIngestDeps,
  ) {}

  /** Starts listening, with `socket` if the port was bound while it was given out. */
  open(socket?: Socket): void {
    if (socket) this.guard(socket);
    else this.bindGuard();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.socket?.close();
    this.socket = undefined;
    this.stopRelay?.();
    return this.idle;
  }

  private bindGuard(): void {
    if (this.closed) return;
    bindUdp(this.deps.host, this.port).then(
      (socket) => (this.closed ? socket.close() : this.guard(socket)),
      (err: Error) => this.retryLater(`port ${this.port} cannot be used: ${err.message}`),
    );
  }

  private guard(socket: Socket): void {
    this.socket = socket;
    this.delay = FIRST_RETRY_MS;
    socket.once('message', () => {
      // A caller knocks: hand the port over (its handshake repeats until srt-live-transmit answers).
      this.socket = undefined;
      socket.close(() => this.relay());
    });
  }

  private retryLater(reason: string): void {
    if (this.closed) return;
    this.deps.log.warn({ input: this.input.uid, port: this.port, retryInMs: this.delay }, `srt: ${reason}`);
    this.retry = setTimeout(() => this.bindGuard(), this.delay);
    this.retry.unref();
    this.delay = Math.min(MAX_RETRY_MS, this.delay * 2);
  }

  /** srt-live-transmit takes the caller; its stream goes to ffmpeg, which republishes it over RTMP. */
  private relay(): void {
    if (this.closed) return;
    const { input, port, deps } = this;
    const host = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
    const listenUrl = `srt://${host}:${port}?mode=listener&passphrase=${encodeURIComponent(input.streamKey)}`;
    const srt = spawn(deps.srtLiveTransmit, ['-a:no', `-t:${CONNECT_WAIT_SECONDS}`, '-tm:1', '-ll:error', listenUrl, 'file://con'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    srt.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const aborter = new AbortController();
    let republish: Promise<void> = Promise.resolve();
    let streamed = false;
    srt.stdout.once('data', (first: Buffer) => {
      streamed = true;
      srt.stdout.pause();
      srt.stdout.unshift(first);
      deps.log.info({ input: input.uid, port }, 'srt: encoder connected, relaying into RTMP ingest');
      // -analyzeduration 0.3 s: ffmpeg's default (5 s) held the stream back that long before the
      // RTMP publish (measured: first playable 3.8 s at 1 s, 2.7 s at 0.3 s and at 0.1 s).
      republish = runFfmpeg(
        deps.ffmpegPath,
        ['-loglevel', 'error', '-analyzeduration', '300000', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy', '-f', 'flv', deps.rtmpUrl(input)],
        { stdin: srt.stdout, signal: aborter.signal },
      ).then(
        () => undefined,
        (err: Error) => {
          if (!aborter.signal.aborted) deps.log.warn({ input: input.uid, err: err.message }, 'srt: relay into RTMP ingest ended');
        },
      ).finally(() => {
        // RTMP ingest ended the stream (disabled or deleted input, another encoder on it, not H.264...):
        // the caller is cut, as Cloudflare cuts it.
        srt.kill('SIGTERM');
      });
    });
    const exited = new Promise<number | null>((resolve) => {
      srt.on('error', (err) => {
        deps.log.error({ input: input.uid, err: err.message }, 'srt: srt-live-transmit failed to run');
        resolve(-1);
      });
      srt.on('close', (code) => resolve(code));
    });
    this.stopRelay = () => {
      aborter.abort();
      srt.kill('SIGTERM');
    };
    this.idle = exited.then(async (code) => {
      await republish;
      this.stopRelay = undefined;
      if (this.closed) return;
      if (code === 0 || streamed) {
        if (streamed) deps.log.info({ input: input.uid, port }, 'srt: encoder disconnected');
        this.bindGuard();
      } else {
        this.retryLater(`srt-live-transmit exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
      }
    });
  }
}

/** A UDP socket bound to host:port (0: a free port). */
function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      // A socket that fails later (it should not) is closed; the listener's next knock never comes.
      socket.on('error', () => socket.close());
      socket.unref();
      resolve(socket);
    });
  });
}

/** The SRT listeners of every enabled input, and the ports given to inputs. */
export class SrtIngest {
  private readonly listeners = new Map<string, SrtListener>();
  private stopping = false;

  constructor(private readonly deps: SrtIngestDeps) {}

  /** Opens the listener of every enabled input, giving a port to those without one. */
  async start(): Promise<void> {
    for (const input of this.deps.inputs.enabledInputs()) await this.follow(input);
    this.deps.log.info({ inputs: this.listeners.size }, 'srt: ingest on, one UDP port per live input');
  }

  /**
   * Makes the input's listener match it: gives it a port if it has none, opens it when enabled,
   * closes it when disabled. Returns the input as stored (with its port).
   */
  async follow(input: LiveInputRecord): Promise<LiveInputRecord> {
    if (this.stopping) return input;
    let socket: Socket | undefined;
    let current = input;
    if (current.srtPort === null) {
      const given = await this.givePort(current);
      if (!given) return current;
      socket = given.socket;
      current = given.input;
    }
    const listener = this.listeners.get(current.uid);
    // A changed stream key or port needs a new listener; an unchanged one keeps its caller.
    if (listener && (!current.enabled || listener.port !== current.srtPort || listener.input.streamKey !== current.streamKey)) {
      this.listeners.delete(current.uid);
      void listener.close();
    } else if (listener) {
      socket?.close();
      return current;
    }
    if (!current.enabled) {
      socket?.close();
      return current;
    }
    const opened = new SrtListener(current, current.srtPort!, this.deps);
    this.listeners.set(current.uid, opened);
    opened.open(socket);
    return current;
  }

  /** The input was deleted: its caller is cut and its port closed. */
  forget(inputUid: string): void {
    const listener = this.listeners.get(inputUid);
    if (!listener) return;
    this.listeners.delete(inputUid);
    void listener.close();
  }

  /** Closes the listeners of inputs no longer in the store (after a reset). */
  prune(): void {
    for (const uid of [...this.listeners.keys()]) if (!this.deps.inputs.findByUid(uid)) this.forget(uid);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const closing = [...this.listeners.values()].map((l) => l.close());
    this.listeners.clear();
    await Promise.all(closing);
  }

  /** Binds a port no input has yet (the lowest free one from the base, or one the system picks) and records it. */
  private async givePort(input: LiveInputRecord): Promise<{ input: LiveInputRecord; socket: Socket } | undefined> {
    const { portBase, host, inputs } = this.deps;
    const taken = inputs.srtPorts();
    for (const port of candidatePorts(portBase)) {
      if (port !== 0 && taken.has(port)) continue;
      // Holding the socket is what reserves the port: a second input being given one at the same time skips it.
      const socket = await bindUdp(host, port).catch(() => undefined);
      if (!socket) continue; // another program holds it
      const bound = socket.address().port;
      if (taken.has(bound) || !inputs.setSrtPort(input.uid, bound)) {
        socket.close();
        if (taken.has(bound)) continue;
        return undefined; // deleted meanwhile
      }
      return { input: inputs.findByUid(input.uid) ?? { ...input, srtPort: bound }, socket };
    }
    this.deps.log.error({ input: input.uid, portBase }, 'srt: no UDP port left to give this input');
    return undefined;
  }
}

/** Ports to try in order: from the base up, or (base 0) a few picked by the system. */
function* candidatePorts(base: number): Generator<number> {
  if (base === 0) {
    for (let i = 0; i < 16; i++) yield 0;
    return;
  }
  for (let port = base; port <= 65535; port++) yield port;
}
