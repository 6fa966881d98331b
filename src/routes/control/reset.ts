// POST /_ministream/reset (body or query: account_id, reseed): deletes everything, or one
// account's data, rows and files, without a restart. See src/store/reset.ts and control-plane.ts.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../envelope.js';
import { AccountId, OptionalBody, controlSchema } from './schemas.js';

const ResetParams = Type.Object({
  account_id: Type.Optional(AccountId),
  reseed: Type.Optional(Type.Boolean({ description: 'Read the --seed folder again afterwards' })),
});

const SeedResult = Type.Object({
  ingested: Type.Array(Type.Object({ file: Type.String(), uid: Type.String() })),
  skipped: Type.Array(Type.String()),
  refused: Type.Array(Type.String()),
});

const ResetResult = Type.Object({
  accountId: Type.Union([Type.String(), Type.Null()]),
  videos: Type.Integer({ description: 'Videos deleted' }),
  deleted: Type.Record(Type.String(), Type.Integer(), { description: 'Rows deleted per table' }),
  seeded: Type.Union([SeedResult, Type.Null()]),
});

export const resetRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { control, live } = app.ministream;

  app.post(
    '/_ministream/reset',
    {
      schema: controlSchema('Delete everything, or one account (account_id), without a restart', {
        operationId: 'ministream-reset',
        description:
          'Every table (discovered from the database) and every media file; with account_id only that account\'s rows and files. A full reset also clears faults, holds and the request log. reseed=true reads the --seed folder again.',
        querystring: ResetParams,
        body: OptionalBody(ResetParams),
        response: { 200: Envelope(ResetResult) },
      }),
    },
    async (request) => {
      const accountId = request.body?.account_id ?? request.query.account_id;
      const reseed = request.body?.reseed ?? request.query.reseed;
      const result = await control.reset(accountId, { reseed });
      // Encoders pushing to inputs that are gone are cut, their SRT ports closed.
      live.inputsRemoved();
      request.log.info({ accountId: result.accountId, deleted: result.deleted }, 'control: reset');
      return ok({ accountId: result.accountId, videos: result.videoUids.length, deleted: result.deleted, seeded: result.seeded });
    },
  );
};
