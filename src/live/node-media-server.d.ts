// The parts of node-media-server 4.4.3 (JavaScript without type declarations) that rtmp-server.ts
// uses: one RTMP session per TCP connection, its protocol state and the broadcast it joins.
declare module 'node-media-server/src/session/rtmp_session.js' {
  import type { Socket } from 'node:net';

  interface InvokeMessage {
    streamName: string;
  }

  interface AVPacket {
    /** 8 audio, 9 video, 18 script data. */
    codec_type: number;
    /** FLV codec id (7 H.264, 10 AAC, ...) or an enhanced-RTMP FourCC as a number. */
    codec_id: number;
    /** 0 audio sequence header, 2 video sequence header, 3 keyframe, 1/4 other frames, 5 metadata. */
    flags: number;
    /** The FLV tag body. */
    data: Buffer;
  }

  interface Rtmp {
    streamId: number;
    parserPacket: { header: { stream_id: number } };
    onPublish(invokeMessage: InvokeMessage): void;
    onPlay(invokeMessage: InvokeMessage): void;
    onPacketCallback: (packet: AVPacket) => void;
    sendStatusMessage(sid: number, level: string, code: string, description: string): void;
  }

  interface Subscriber {
    close(): void;
  }

  interface BroadcastServer {
    subscribers: Map<string, Subscriber>;
  }

  class RtmpSession {
    constructor(socket: Socket);
    readonly id: string;
    readonly socket: Socket;
    readonly rtmp: Rtmp;
    broadcast: BroadcastServer;
    isPublisher: boolean;
    streamPath: string;
    /** From the publisher's onMetaData (0 when it sent none). */
    videoWidth: number;
    videoHeight: number;
    audioCodec: number;
    run(): void;
    close(): void;
  }
  export = RtmpSession;
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log(message: string, logLevel?: string): void };
  export = logger;
}
