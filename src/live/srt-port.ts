// One SRT port of a live input (ingest or playback). An idle port costs one UDP socket, not a
// process: a Node socket holds the port, and the first packet of a caller (its handshake, which
// SRT callers repeat every 250 ms until answered) makes it hand the port to srt-live-transmit,
// whose listener answers the repeat. When the caller leaves, srt-live-transmit exits (-a:no) and
// the port goes back to the Node socket. A port that cannot be bound is retried with a growing delay.
import { createSocket, type Socket } from 'node:dgram';
import type { RunnerLog } from '../transcode/job-runner.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** The processes serving one caller. */
export interface RunningRelay {
  /** Settles when every process has exited: with srt-live-transmit's exit code, and whether media flowed. */
  done: Promise<{ code: number | null; streamed: boolean; reason: string }>;
  stop(): void;
}

/** A UDP socket bound to host:port (0: a free port). */
export function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      // A socket that fails later (it should not) is closed; the port's next knock never comes.
      socket.on('error', () => closeQuietly(socket));
      socket.unref();
      resolve(socket);
    });
  });
}

/** Closes a socket that may be closed already. */
export function closeQuietly(socket: Socket | undefined): void {
  try {
    socket?.close();
  } catch {
    // ERR_SOCKET_DGRAM_NOT_RUNNING: it was.
  }
}

export class SrtPort {
  private socket: Socket | undefined;
  private relay: RunningRelay | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delay = FIRST_RETRY_MS;
  private closed = false;
  /** Settles once no process of this port runs. */
  private idle: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    private readonly host: string,
    /** Says who this port is, in logs. */
    private readonly label: object,
    private readonly log: RunnerLog,
    /** Starts the processes that serve a caller (srt-live-transmit listening on the port). */
    private readonly serve: () => RunningRelay,
  ) {}

  /** Starts listening, with `socket` if the port was bound while it was given out. */
  open(socket?: Socket): void {
    if (socket) this.guard(socket);
    else this.bindGuard();
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    closeQuietly(this.socket);
    this.socket = undefined;
    this.relay?.stop();
    return this.idle;
  }

  private bindGuard(): void {
    if (this.closed) return;
    bindUdp(this.host, this.port).then(
      (socket) => (this.closed ? socket.close() : this.guard(socket)),
      (err: Error) => this.retryLater(`port ${this.port} cannot be used: ${err.message}`),
    );
  }

  private guard(socket: Socket): void {
    this.socket = socket;
    this.delay = FIRST_RETRY_MS;
    socket.once('message', () => {
      // A caller knocks: hand the port over.
      this.socket = undefined;
      socket.close(() => this.handOver());
    });
  }

  private handOver(): void {
    if (this.closed) return;
    const relay = this.serve();
    this.relay = relay;
    this.idle = relay.done.then(({ code, streamed, reason }) => {
      this.relay = undefined;
      if (this.closed) return;
      // Exit 0: the caller left, or none came within the wait (a refused passphrase, a stray packet);
      // no code: stopped by its relay (the broadcast ended). Anything else is worth a pause.
      if (code === 0 || code === null || streamed) this.bindGuard();
      else this.retryLater(`srt-live-transmit exited with ${code}: ${reason}`);
    });
  }

  private retryLater(reason: string): void {
    if (this.closed) return;
    this.log.warn({ ...this.label, port: this.port, retryInMs: this.delay }, `srt: ${reason}`);
    this.retry = setTimeout(() => this.bindGuard(), this.delay);
    this.retry.unref();
    this.delay = Math.min(MAX_RETRY_MS, this.delay * 2);
  }
}
