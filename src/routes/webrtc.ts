// WebRTC live on Cloudflare's paths: WHIP (an encoder publishes) at the input's `webRTC.url`,
// /<stream key>/webRTC/publish, and WHEP (a viewer plays) at `webRTCPlayback.url`,
// /<input uid>/webRTC/play. The offer is the body (application/sdp); the answer comes back with 201,
// a Location to DELETE when done, and the draft's protocol-version header (as Cloudflare sends).
// ICE is not trickled (PATCH answers 405). The media side is src/live/webrtc.ts.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { MAX_TOKEN_LENGTH } from '../access/tokens.js';
import { WebRtcRefusal } from '../live/webrtc.js';
import { deliverableLiveInput } from './delivery-access.js';

const WHIP_VERSION = 'draft-ietf-wish-whip-06';
const WHEP_VERSION = 'draft-murillo-whep-01';
const SDP = 'application/sdp';

/** A stream key (WHIP), or an input uid or a token for one (WHEP). */
const Key = Type.String({ minLength: 1, maxLength: MAX_TOKEN_LENGTH });
const KeyParams = Type.Object({ key: Key });
const SessionParams = Type.Object({ key: Key, session: Type.String({ maxLength: 64 }) });

export const webRtcRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { live, liveInputs } = app.ministream;
  app.addContentTypeParser(SDP, { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const offerOf = (body: unknown): string => {
    // An SDP offer: its version line and at least one audio or video section.
    if (typeof body !== 'string' || !body.startsWith('v=0') || !/^m=(audio|video) /m.test(body)) throw Errors.webRtcNoOffer();
    return body;
  };
  const answered = (reply: FastifyReply, version: string, location: string, sdp: string) =>
    reply.code(201).header('protocol-version', version).header('location', location).header('etag', `"${location.split('/').pop()}"`).type(SDP).send(sdp);
  /** The media side refuses with its own reasons; they become the catalogue's answers. */
  const refused = (err: unknown): never => {
    if (err instanceof WebRtcRefusal) throw err.status === 409 ? Errors.webRtcBusy() : err.status === 404 ? Errors.webRtcNotLive() : Errors.webRtcNoOffer();
    throw err;
  };

  app.post('/:key/webRTC/publish', { schema: { operationId: 'ministream-whip-publish', params: KeyParams } }, async (request, reply) => {
    const input = liveInputs.findByStreamKey(request.params.key);
    if (!input) throw Errors.liveInputNotFound();
    if (!input.enabled) throw Errors.liveInputDisabled();
    // One encoder per input, whatever its protocol.
    if (live.isConnected(input.uid)) throw Errors.webRtcBusy();
    const { session, sdp } = await live.webrtc.publish(input.uid, offerOf(request.body)).catch(refused);
    return answered(reply, WHIP_VERSION, `/${request.params.key}/webRTC/publish/${session}`, sdp);
  });

  app.post('/:key/webRTC/play', { schema: { operationId: 'ministream-whep-play', params: KeyParams } }, async (request, reply) => {
    // The input's uid, or a token for it: its recording.requireSignedURLs and allowedOrigins apply, as for HLS.
    const input = await deliverableLiveInput(app, request, request.params.key);
    if (!input) throw Errors.liveInputNotFound();
    const { session, sdp } = await live.webrtc.play(input.uid, offerOf(request.body)).catch(refused);
    return answered(reply, WHEP_VERSION, `/${request.params.key}/webRTC/play/${session}`, sdp);
  });

  // The session's resource: DELETE ends it; no trickle ICE (PATCH), as the drafts allow.
  for (const action of ['publish', 'play'] as const) {
    app.delete(`/:key/webRTC/${action}/:session`, { schema: { operationId: `ministream-webrtc-${action}-end`, params: SessionParams } }, async (request, reply) => {
      if (!live.webrtc.end(request.params.session)) throw Errors.webRtcSessionNotFound();
      return reply.code(200).send();
    });
    app.patch(`/:key/webRTC/${action}/:session`, { schema: { operationId: `ministream-webrtc-${action}-trickle`, params: SessionParams } }, async (_request, reply) =>
      reply.code(405).header('allow', 'DELETE').send(),
    );
  }
};
