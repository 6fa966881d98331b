// RTMP ingest with node-media-server (4.4.3, pinned): the library speaks RTMP (handshake, chunks,
// AMF, FLV tags) and relays each published stream to its players; this module decides who may
// publish or play. Encoders push to rtmp://HOST:PORT/live/<streamKey>; Ministream's own ffmpeg
// processes (the live transcoder, simulcast) play the same path on loopback.
//
// Only the library's session class is used, on a net.Server of ours: its NodeMediaServer class
// cannot listen on port 0, exits the process when its port is taken, logs to stdout and keeps a
// JSON store in ./data, none of which suits an embedded server.
import { createServer, type Server, type Socket } from 'node:net';
import RtmpSession from 'node-media-server/src/session/rtmp_session.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import type { RunnerLog } from '../transcode/job-runner.js';

/** The RTMP application every input is published under, as Cloudflare's rtmps://live.cloudflare.com:443/live/. */
export const RTMP_APP = 'live';

export interface MediaInfo {
  videoCodec: string;
  audioCodec: string | null;
  /** The HLS CODECS attribute of the stream as pushed ("avc1.64001f,mp4a.40.2"), when known. */
  codecs: string | null;
  /** From the encoder's onMetaData; 0 when it sent none. */
  width: number;
  height: number;
}

/** One encoder's connection, as the handler sees it. */
export interface PublishSession {
  readonly id: string;
  readonly remoteAddress: string;
  /** Ends the connection, with an error status first so that the encoder can say why. */
  end(reason: string): void;
}

export interface IngestHandler {
  /** A publish to /live/<name>: undefined accepts it, a string refuses it with that reason. */
  publish(name: string, session: PublishSession): string | undefined;
  /** What an accepted publish carries, known at its first video frame. */
  media(session: PublishSession, info: MediaInfo): void;
  /** The publisher's connection closed; its players have been closed too. */
  publishEnded(session: PublishSession): void;
  /** A play of /live/<name>: the stream key whose broadcast to play, or undefined to refuse. */
  play(name: string): string | undefined;
}

const FLV_VIDEO_CODECS: Record<number, string> = { 2: 'flv1', 3: 'screen', 4: 'vp6', 5: 'vp6a', 6: 'screen2', 7: 'h264', 12: 'hevc' };
const FLV_AUDIO_CODECS: Record<number, string> = {
  0: 'pcm', 1: 'adpcm', 2: 'mp3', 3: 'pcm_le', 4: 'nellymoser', 5: 'nellymoser', 6: 'nellymoser', 7: 'g711a', 8: 'g711u', 10: 'aac', 11: 'speex', 14: 'mp3',
};
const AUDIO = 8;
const VIDEO = 9;
const FLV_AVC = 7;
const FLV_AAC = 10;

/** RFC 6381 name of an H.264 stream, from its AVCDecoderConfigurationRecord (after the 5-byte FLV video header). */
function avcTag(tag: Buffer): string | undefined {
  if (tag.length < 9 || tag[5] !== 1) return undefined;
  return `avc1.${tag.subarray(6, 9).toString('hex')}`;
}

/** RFC 6381 name of an AAC stream, from its AudioSpecificConfig (after the 2-byte FLV audio header). */
function aacTag(tag: Buffer): string | undefined {
  if (tag.length < 3) return undefined;
  const objectType = tag[2]! >> 3;
  return objectType > 0 && objectType < 31 ? `mp4a.40.${objectType}` : undefined;
}

/** An FLV codec id, or an enhanced-RTMP FourCC (hvc1, av01, vp09) read as a number. */
function codecName(id: number, table: Record<number, string>): string {
  if (table[id]) return table[id];
  if (id > 0xffffff) return Buffer.from([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]).toString('latin1');
  return `flv-codec-${id}`;
}

/** node-media-server logs through one module-wide logger; it goes to the latest server's log, at debug. */
let librarySink: ((message: string) => void) | undefined;
nmsLogger.log = (message: string) => librarySink?.(message);

/** Stream names the library accepts (it refuses others itself). */
const SAFE_NAME = /^[A-Za-z0-9_-]+$/;

export class RtmpIngest {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly handler: IngestHandler,
    private readonly log: RunnerLog & { debug?(obj: object, msg: string): void },
  ) {}

  /** Listens; resolves with the bound port (a free one for port 0). */
  listen(port: number, host: string): Promise<number> {
    librarySink = (message) => this.log.debug?.({ rtmp: message }, 'rtmp');
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops listening and cuts every connection (publishers see their stream end). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The handler runs inside the library's socket callbacks, where a throw would end the process. */
  private guard<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      this.log.error({ err }, 'rtmp: handler failed');
      return fallback;
    }
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const session = new RtmpSession(socket);
    session.run();
    const rtmp = session.rtmp;
    let accepted = false;
    const view: PublishSession = {
      id: session.id,
      remoteAddress: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
      end: (reason) => {
        rtmp.sendStatusMessage(rtmp.streamId, 'error', 'NetStream.Publish.Rejected', reason);
        socket.end();
      },
    };
    const refuse = (code: string, reason: string) => {
      rtmp.streamId = rtmp.parserPacket.header.stream_id;
      rtmp.sendStatusMessage(rtmp.streamId, 'error', code, reason);
      socket.end();
    };

    // Decided before the library answers NetStream.Publish.Start, so a refused encoder hears only the error.
    const publish = rtmp.onPublish.bind(rtmp);
    rtmp.onPublish = (message) => {
      const name = message.streamName.split('?')[0] ?? '';
      const refusal = SAFE_NAME.test(name) ? this.guard(() => this.handler.publish(name, view), 'the server could not take this stream') : 'invalid stream key';
      if (refusal !== undefined) {
        this.log.info({ session: session.id, remote: view.remoteAddress, reason: refusal }, 'rtmp: publish refused');
        return refuse('NetStream.Publish.BadName', refusal);
      }
      accepted = true;
      publish(message);
    };

    // A player names a stream key or a playback key; it plays the broadcast of the stream key.
    const play = rtmp.onPlay.bind(rtmp);
    rtmp.onPlay = (message) => {
      const name = message.streamName.split('?')[0] ?? '';
      const streamKey = SAFE_NAME.test(name) ? this.guard(() => this.handler.play(name), undefined) : undefined;
      if (streamKey === undefined) return refuse('NetStream.Play.StreamNotFound', 'no such live stream');
      play({ ...message, streamName: streamKey });
    };

    // The first video frame tells the codecs: the sequence headers (and the encoder's onMetaData,
    // if any) come before it.
    const relay = rtmp.onPacketCallback;
    const seen: { video?: string; audio?: string; videoTag?: string; audioTag?: string } = {};
    let reported = false;
    rtmp.onPacketCallback = (packet) => {
      relay(packet);
      // Headers are noted even before the publish is accepted: they may arrive first.
      if (reported) return;
      if (packet.codec_type === AUDIO) {
        seen.audio ??= codecName(packet.codec_id, FLV_AUDIO_CODECS);
        if (packet.flags === 0 && packet.codec_id === FLV_AAC) seen.audioTag = aacTag(packet.data);
      }
      if (packet.codec_type !== VIDEO) return;
      seen.video = codecName(packet.codec_id, FLV_VIDEO_CODECS);
      if (packet.flags === 2 && packet.codec_id === FLV_AVC) {
        seen.videoTag = avcTag(packet.data);
        return;
      }
      if (!accepted) return;
      reported = true;
      const audioCodec = seen.audio ?? (session.audioCodec ? codecName(session.audioCodec, FLV_AUDIO_CODECS) : null);
      const audioTag = seen.audioTag ?? (audioCodec === 'aac' ? 'mp4a.40.2' : undefined);
      const info: MediaInfo = {
        videoCodec: seen.video,
        audioCodec,
        codecs: seen.videoTag ? [seen.videoTag, ...(audioTag ? [audioTag] : [])].join(',') : null,
        width: session.videoWidth || 0,
        height: session.videoHeight || 0,
      };
      this.guard(() => this.handler.media(view, info), undefined);
    };

    socket.on('close', () => {
      if (!accepted) return;
      // The library keeps players attached across a publisher's absence; ours should see the end
      // of the stream (and flush what they hold), so they are closed with it.
      for (const player of session.broadcast.subscribers.values()) player.close();
      this.guard(() => this.handler.publishEnded(view), undefined);
    });
  }
}
