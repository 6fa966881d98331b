// SRT for live inputs: each enabled input has two UDP ports, one encoders push to (the `srt` object:
// MPEG-TS in caller mode, as Cloudflare requires, with the input's passphrase) and one viewers play
// from (`srtPlayback`, with the playback passphrase). srt-port.ts holds a port while idle,
// srt-relays.ts serves a caller.
//
// Deliberate difference from Cloudflare: Cloudflare takes every input on one port (778) and tells
// them apart by streamid. The relay here is Haivision's srt-live-transmit (Debian: srt-tools),
// which takes one stream per port and cannot route by streamid, so each input has its own ports
// (its `srt.url` / `srtPlayback.url` name them; the streamid is not checked, the passphrase is).
// ffmpeg's own SRT listener was measured losing most of a live stream on loopback (ffmpeg 5.1.9,
// libsrt 1.5.1: 3.5 s of an 8 s push arrived), srt-live-transmit lost none of it; hence the relay.
import type { Socket } from 'node:dgram';
import type { LiveInputRecord, LiveInputStore, SrtRole } from '../store/live-input-store.js';
import type { RunnerLog } from '../transcode/job-runner.js';
import { bindUdp, closeQuietly, SrtPort } from './srt-port.js';
import { ingestRelay, playbackRelay } from './srt-relays.js';

export interface SrtDeps {
  /** Path of srt-live-transmit. */
  srtLiveTransmit: string;
  ffmpegPath: string;
  /** Interface to listen on (the HTTP server's). */
  host: string;
  /** First port to give out; 0: free ports picked by the system. */
  portBase: number;
  inputs: Pick<LiveInputStore, 'enabledInputs' | 'findByUid' | 'srtPorts' | 'setSrtPort'>;
  /** The broadcast of an input on Ministream's own RTMP server, by its stream key or its playback key. */
  rtmpUrl(key: string): string;
  log: RunnerLog;
}

const ROLES: SrtRole[] = ['ingest', 'playback'];

/** The port an input has for a role, if given. */
const portOf = (input: LiveInputRecord, role: SrtRole) => (role === 'ingest' ? input.srtPort : input.srtPlaybackPort);

/** An input's open ports, as they were opened (a changed key or port needs new ones). */
interface OpenInput {
  streamKey: string;
  playbackKey: string;
  ports: SrtPort[];
}

export class SrtListeners {
  private readonly open = new Map<string, OpenInput>();
  private stopping = false;

  constructor(private readonly deps: SrtDeps) {}

  /** Opens the ports of every enabled input, giving ports to those without. */
  async start(): Promise<void> {
    for (const input of this.deps.inputs.enabledInputs()) await this.follow(input);
    this.deps.log.info({ inputs: this.open.size }, 'srt: on, one UDP port per live input for ingest and one for playback');
  }

  /**
   * Makes the input's ports match it: gives it the ports it lacks, opens them when it is enabled,
   * closes them when it is disabled. Returns the input as stored (with its ports).
   */
  async follow(input: LiveInputRecord): Promise<LiveInputRecord> {
    if (this.stopping) return input;
    let current = input;
    const sockets = new Map<SrtRole, Socket>();
    const release = () => sockets.forEach((socket) => closeQuietly(socket));
    for (const role of ROLES) {
      if (portOf(current, role) !== null) continue;
      const given = await this.givePort(current, role);
      if (given) sockets.set(role, given.socket);
      // Deleted meanwhile, no port left, or the server stops: nothing opens.
      if (!given || this.stopping) {
        release();
        return this.deps.inputs.findByUid(input.uid) ?? current;
      }
      current = given.input;
    }
    const opened = this.open.get(current.uid);
    const same = opened && opened.streamKey === current.streamKey && opened.playbackKey === current.playbackKey
      && ROLES.every((role, i) => opened.ports[i]?.port === portOf(current, role));
    if (opened && (!current.enabled || !same)) this.forget(current.uid);
    if (!current.enabled || (opened && same)) {
      release();
      return current;
    }
    const ports = ROLES.map((role) => this.portFor(current, role));
    this.open.set(current.uid, { streamKey: current.streamKey, playbackKey: current.playbackKey, ports });
    ports.forEach((p, i) => p.open(sockets.get(ROLES[i]!)));
    return current;
  }

  /** The input was deleted (or disabled): its callers are cut and its ports closed. */
  forget(inputUid: string): void {
    const opened = this.open.get(inputUid);
    if (!opened) return;
    this.open.delete(inputUid);
    for (const port of opened.ports) void port.close();
  }

  /** Closes the ports of inputs no longer in the store (after a reset). */
  prune(): void {
    for (const uid of [...this.open.keys()]) if (!this.deps.inputs.findByUid(uid)) this.forget(uid);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const closing = [...this.open.values()].flatMap((o) => o.ports.map((p) => p.close()));
    this.open.clear();
    await Promise.all(closing);
  }

  private portFor(input: LiveInputRecord, role: SrtRole): SrtPort {
    const { deps } = this;
    const port = portOf(input, role)!;
    const label = { input: input.uid, srt: role };
    const target = {
      srtLiveTransmit: deps.srtLiveTransmit, ffmpegPath: deps.ffmpegPath, host: deps.host, port, log: deps.log, label,
      passphrase: role === 'ingest' ? input.streamKey : input.playbackKey,
      rtmpUrl: deps.rtmpUrl(role === 'ingest' ? input.streamKey : input.playbackKey),
    };
    return new SrtPort(port, deps.host, label, deps.log, () => (role === 'ingest' ? ingestRelay(target) : playbackRelay(target)));
  }

  /** Binds a port no input has yet (the lowest free one from the base, or one the system picks) and records it. */
  private async givePort(input: LiveInputRecord, role: SrtRole): Promise<{ input: LiveInputRecord; socket: Socket } | undefined> {
    const { portBase, host, inputs } = this.deps;
    const taken = inputs.srtPorts();
    for (const port of candidatePorts(portBase)) {
      if (port !== 0 && taken.has(port)) continue;
      // Holding the socket is what reserves the port: an input being given one at the same time skips it.
      const socket = await bindUdp(host, port).catch(() => undefined);
      if (!socket) continue; // another program holds it
      const bound = socket.address().port;
      if (taken.has(bound) || !inputs.setSrtPort(input.uid, bound, role)) {
        socket.close();
        if (taken.has(bound)) continue;
        return undefined; // deleted meanwhile
      }
      const stored = inputs.findByUid(input.uid);
      return { input: stored ?? input, socket };
    }
    this.deps.log.error({ input: input.uid, portBase, srt: role }, 'srt: no UDP port left to give this input');
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
