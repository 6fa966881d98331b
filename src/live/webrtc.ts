// WebRTC live, as Cloudflare's beta: an encoder publishes over WHIP to the input's `webRTC.url`,
// viewers play over WHEP from `webRTCPlayback.url`. As on Cloudflare, a WHIP broadcast is neither
// recorded nor served as HLS, and has no simulcast: its RTP is forwarded as it came (no decoding)
// to every WHEP viewer. werift (a WebRTC stack in TypeScript) terminates the peer connections;
// ICE is not trickled: answers carry every candidate (loopback included, for local use).
import { randomBytes } from 'node:crypto';
import type { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import type * as Werift from 'werift';
import type { RunnerLog } from '../transcode/job-runner.js';

/** How long an answer waits for the gathering of candidates. */
const GATHER_TIMEOUT_MS = 3000;
/** A session whose peer has not connected by then is ended (it would hold the input). */
const CONNECT_TIMEOUT_MS = 15_000;
/** A viewer that joins asks the publisher for a keyframe; so does every viewer every few seconds. */
const KEYFRAME_EVERY_MS = 3000;

type Kind = 'video' | 'audio';

/** A WHIP publisher: the input's tracks as they arrive, and the codecs they came with. */
interface Publisher {
  session: string;
  inputUid: string;
  pc: RTCPeerConnection;
  tracks: Map<Kind, MediaStreamTrack>;
  codecs: Map<Kind, RTCRtpCodecParameters>;
  keyframes: NodeJS.Timeout;
}

interface Viewer {
  session: string;
  inputUid: string;
  pc: RTCPeerConnection;
  unsubscribe: (() => void)[];
}

export class WebRtcRefusal extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

const peerConfig = (codecs: { video: RTCRtpCodecParameters[]; audio: RTCRtpCodecParameters[] }) => ({
  codecs,
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceUseIpv6: false,
});

/**
 * werift, loaded at the first WebRTC request: most runs never use WebRTC, and a smaller heap keeps
 * garbage collection cheap on the upload path (see bench/README.md).
 */
let werift: Promise<typeof Werift> | undefined;
const loadWerift = () => (werift ??= import('werift'));

/** The codecs a publisher may use: what OBS (H.264) and browsers (VP8 first) send, with Opus. */
const publishCodecs = (w: typeof Werift) => ({ video: [w.useH264(), w.useVP8()], audio: [w.useOPUS()] });

/** Answers an offer, with every candidate gathered; `prepare` runs between the offer and the answer. */
async function answer(pc: RTCPeerConnection, offer: string, prepare: () => Promise<void> = async () => undefined): Promise<string> {
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await prepare();
    await pc.setLocalDescription(await pc.createAnswer());
  } catch (err) {
    throw new WebRtcRefusal(400, `the offer is not an SDP offer this server can answer: ${(err as Error).message}`);
  }
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  return pc.localDescription!.sdp;
}

export class WebRtcLive {
  private readonly publishers = new Map<string, Publisher>();
  private readonly viewers = new Map<string, Viewer>();

  constructor(private readonly log: RunnerLog) {}

  /** WHEP viewers of the input now. */
  viewerCount(inputUid: string): number {
    let n = 0;
    for (const v of this.viewers.values()) if (v.inputUid === inputUid) n++;
    return n;
  }

  /** Inputs with a WHIP publisher. */
  liveInputs(): string[] {
    return [...this.publishers.keys()];
  }

  /** Whether a WHIP encoder is publishing to the input. */
  isLive(inputUid: string): boolean {
    return this.publishers.has(inputUid);
  }

  /** WHIP: an encoder's offer; answers the SDP and the session id (the resource to DELETE). */
  async publish(inputUid: string, offer: string): Promise<{ session: string; sdp: string }> {
    const w = await loadWerift();
    // Checked and taken with no await between: two encoders at once cannot both publish.
    if (this.publishers.has(inputUid)) throw new WebRtcRefusal(409, 'another encoder is already publishing to this live input');
    const pc = new w.RTCPeerConnection(peerConfig(publishCodecs(w)));
    const session = randomBytes(16).toString('hex');
    const publisher: Publisher = { session, inputUid, pc, tracks: new Map(), codecs: new Map(), keyframes: setInterval(() => this.askKeyframe(publisher), KEYFRAME_EVERY_MS) };
    publisher.keyframes.unref();
    this.publishers.set(inputUid, publisher);
    pc.onTrack.subscribe((track) => {
      const kind = track.kind as Kind;
      publisher.tracks.set(kind, track);
      this.log.info({ input: inputUid, kind, codec: track.codec?.mimeType }, 'webrtc: publisher track');
    });
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed' || state === 'disconnected') this.end(session);
    });
    try {
      const sdp = await answer(pc, offer);
      for (const t of pc.getTransceivers()) {
        const codec = t.codecs[0];
        if (codec && (t.kind === 'video' || t.kind === 'audio')) publisher.codecs.set(t.kind, codec);
      }
      this.expireUnconnected(session, pc);
      this.log.info({ input: inputUid, session, codecs: [...publisher.codecs.values()].map((c) => c.mimeType) }, 'webrtc: WHIP publisher answered');
      return { session, sdp };
    } catch (err) {
      this.end(session);
      throw err;
    }
  }

  /** WHEP: a viewer's offer; the publisher's tracks are forwarded to it as they come. */
  async play(inputUid: string, offer: string): Promise<{ session: string; sdp: string }> {
    const publisher = this.publishers.get(inputUid);
    // A publisher still being answered has no codecs yet: nothing to play so far.
    if (!publisher || publisher.codecs.size === 0) throw new WebRtcRefusal(404, 'nothing is published over WebRTC on this live input');
    // The viewer gets the publisher's own codecs: RTP is forwarded, never transcoded.
    const video = publisher.codecs.get('video');
    const audio = publisher.codecs.get('audio');
    const w = await loadWerift();
    const pc = new w.RTCPeerConnection(peerConfig({ video: video ? [video] : [], audio: audio ? [audio] : [] }));
    const session = randomBytes(16).toString('hex');
    const viewer: Viewer = { session, inputUid, pc, unsubscribe: [] };
    this.viewers.set(session, viewer);
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.askKeyframe(publisher);
      if (state === 'failed' || state === 'closed' || state === 'disconnected') this.end(session);
    });
    let sdp: string;
    try {
      sdp = await answer(pc, offer, async () => {
        for (const transceiver of pc.getTransceivers()) {
          const kind = transceiver.kind as Kind;
          const source = publisher.tracks.get(kind);
          if (!source) continue;
          const out = new w.MediaStreamTrack({ kind });
          transceiver.setDirection('sendonly');
          await transceiver.sender.replaceTrack(out);
          const { unSubscribe } = source.onReceiveRtp.subscribe((rtp) => out.writeRtp(rtp));
          viewer.unsubscribe.push(unSubscribe);
        }
      });
    } catch (err) {
      // A refused offer leaves no session behind (nor a viewer in the count).
      this.end(session);
      throw err;
    }
    this.expireUnconnected(session, pc);
    this.log.info({ input: inputUid, session }, 'webrtc: WHEP viewer answered');
    return { session, sdp };
  }

  /** Ends a session whose peer does not connect in time. */
  private expireUnconnected(session: string, pc: RTCPeerConnection): void {
    setTimeout(() => {
      if (pc.connectionState !== 'connected') this.end(session);
    }, CONNECT_TIMEOUT_MS).unref();
  }

  /** A WHIP or WHEP session ends (DELETE of its resource, or its connection went). */
  end(session: string): boolean {
    const viewer = this.viewers.get(session);
    if (viewer) {
      this.viewers.delete(session);
      for (const stop of viewer.unsubscribe) stop();
      viewer.pc.close().catch(() => undefined);
      return true;
    }
    for (const publisher of this.publishers.values()) {
      if (publisher.session !== session) continue;
      this.publishers.delete(publisher.inputUid);
      clearInterval(publisher.keyframes);
      publisher.pc.close().catch(() => undefined);
      // Its viewers have nothing left to watch.
      for (const v of [...this.viewers.values()]) if (v.inputUid === publisher.inputUid) this.end(v.session);
      this.log.info({ input: publisher.inputUid, session }, 'webrtc: WHIP publisher left');
      return true;
    }
    return false;
  }

  /** Ends the input's sessions (the input was disabled or deleted). */
  endInput(inputUid: string): void {
    const publisher = this.publishers.get(inputUid);
    if (publisher) this.end(publisher.session);
  }

  async stop(): Promise<void> {
    for (const session of [...this.viewers.keys()]) this.end(session);
    for (const p of [...this.publishers.values()]) this.end(p.session);
  }

  private askKeyframe(publisher: Publisher): void {
    const video = publisher.tracks.get('video');
    if (!video?.ssrc) return;
    const receiver = publisher.pc.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    receiver?.sendRtcpPLI(video.ssrc).catch(() => undefined);
  }
}
