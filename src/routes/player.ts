// The player pages on Cloudflare's paths (/<uid>/iframe, /<uid>/watch) and the hls.js they load.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Errors } from '../errors.js';
import { parseTime } from './thumbnails.js';
import { deliverableVideo, deliverableLiveInput } from './delivery-access.js';
import { HLS_JS_PATH, iframeHtml, watchHtml, type PlayerOptions } from './player-page.js';

const require = createRequire(import.meta.url);

const Flag = Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('')]));
const PlayerQuery = Type.Object({
  autoplay: Flag,
  muted: Flag,
  loop: Flag,
  controls: Flag,
  preload: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('metadata'), Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')])),
  poster: Type.Optional(Type.String({ maxLength: 2048 })),
  startTime: Type.Optional(Type.String({ maxLength: 32 })),
  primaryColor: Type.Optional(Type.String({ maxLength: 32 })),
  defaultTextTrack: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$' })),
  letterboxColor: Type.Optional(Type.String({ maxLength: 32 })),
});
type PlayerQueryT = {
  autoplay?: string; muted?: string; loop?: string; controls?: string; preload?: string;
  poster?: string; startTime?: string; primaryColor?: string; defaultTextTrack?: string; letterboxColor?: string;
};

const Params = Type.Object({ id: Type.String() });
// A CSS color: hex, rgb()/hsl() or a name; nothing that could close the style attribute.
const CSS_COLOR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|(rgb|hsl)a?\([0-9.,%\s]+\))$/;

/** Cloudflare's query parameters: flags are "true"/"false" (a bare ?muted counts as true). */
function playerOptions(q: PlayerQueryT, defaultPoster: string): PlayerOptions {
  const flag = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : v !== 'false');
  const startTime = q.startTime === undefined ? 0 : parseTime(q.startTime);
  if (startTime === undefined) throw Errors.validation('startTime must be a time such as 90, 1m30s or 2.5s');
  if (q.primaryColor !== undefined && !CSS_COLOR.test(q.primaryColor)) throw Errors.validation('primaryColor must be a CSS color');
  // Cloudflare: URI-encoded CSS colors, `transparent` included (a name, so CSS_COLOR takes it).
  if (q.letterboxColor !== undefined && !CSS_COLOR.test(q.letterboxColor)) throw Errors.validation('letterboxColor must be a CSS color');
  if (q.poster !== undefined && !/^https?:\/\//.test(q.poster)) throw Errors.validation('poster must be an http(s) URL');
  const preload = q.preload === 'true' ? 'auto' : q.preload === 'false' ? 'none' : (q.preload ?? 'metadata');
  return {
    autoplay: flag(q.autoplay, false),
    muted: flag(q.muted, false),
    loop: flag(q.loop, false),
    controls: flag(q.controls, true),
    preload: preload as PlayerOptions['preload'],
    poster: q.poster ?? defaultPoster,
    startTime,
    primaryColor: q.primaryColor,
    defaultTextTrack: q.defaultTextTrack,
    letterboxColor: q.letterboxColor,
  };
}

export const playerRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const hlsJs = await readFile(join(dirname(require.resolve('hls.js')), 'hls.min.js'));

  app.get(HLS_JS_PATH, async (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(hlsJs),
  );

  const titleOf = (meta: Record<string, unknown>, uid: string) => (typeof meta.name === 'string' && meta.name ? meta.name : uid);

  app.get('/:id/iframe', { schema: { operationId: 'ministream-player-iframe', params: Params, querystring: PlayerQuery } }, async (request, reply) => {
    const { id } = request.params;
    const html = (title: string, options: PlayerOptions) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(iframeHtml(title, options));
    // A live input with nothing live yet: the player says so and starts when the broadcast does.
    const input = await deliverableLiveInput(app, request, id);
    if (input) return html(titleOf(input.meta, input.uid), { ...playerOptions(request.query, ''), waitForLive: true });
    const video = await deliverableVideo(app, request, id, { ready: false });
    // The poster is relative to the page, like the manifest, so it works through a token too.
    const options = playerOptions(request.query, 'thumbnails/thumbnail.jpg');
    return html(titleOf(video.meta, video.uid), video.publicDetails ? { ...options, branding: video.publicDetails } : options);
  });

  // Cloudflare's player enhancements as JSON (the video's publicDetails; the shape is inferred from
  // its docs, which show only the URL): the fields that are set.
  app.get('/:id/metadata/playerEnhancementInfo.json', { schema: { operationId: 'ministream-player-enhancement-info', params: Params } }, async (request, reply) => {
    const video = await deliverableVideo(app, request, request.params.id, { ready: false });
    const details = Object.fromEntries(Object.entries(video.publicDetails ?? {}).filter(([, v]) => v !== null && v !== undefined));
    return reply.header('cache-control', 'no-cache').send(details);
  });

  app.get('/:id/watch', { schema: { operationId: 'ministream-player-watch', params: Params } }, async (request, reply) => {
    const { id } = request.params;
    const input = await deliverableLiveInput(app, request, id);
    const named = input ?? (await deliverableVideo(app, request, id, { ready: false }));
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(watchHtml(titleOf(named.meta, named.uid), 'iframe'));
  });
};
