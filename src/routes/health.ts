// GET /healthz: 200 {"status":"ok"} once migrations ran and the server accepts requests
// (the app is only built after the store is open). Also says which ffmpeg is in use, and which
// srt-live-transmit (null: none, SRT ingest is off).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';

const Binary = Type.Object({ path: Type.String(), source: Type.String(), version: Type.String() });
const Health = Type.Object({ status: Type.Literal('ok'), ffmpeg: Binary, ffprobe: Binary, srtLiveTransmit: Type.Union([Binary, Type.Null()]) });

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { schema: { response: { 200: Health } }, logLevel: 'warn' }, async () => ({
    status: 'ok' as const,
    ffmpeg: app.ministream.tools.ffmpeg,
    ffprobe: app.ministream.tools.ffprobe,
    srtLiveTransmit: app.ministream.tools.srtLiveTransmit,
  }));
};
