// A small validator of real responses against Cloudflare's official OpenAPI schema (the 2024
// Stream subset, vendored in test/fixtures). Reused by every suite: expectSchema(method, path, status, body).
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>>;
  components: { schemas: Record<string, { enum?: unknown[] }> };
}

const doc = JSON.parse(readFileSync(new URL('../fixtures/stream-openapi.json', import.meta.url), 'utf8')) as OpenApiDoc;

// Where the current SDK (cloudflare 7.3) expects more than the 2024 schema, the SDK wins.
doc.components.schemas.stream_media_state!.enum!.push('live-inprogress');
// SDK 7.3: totalStorageMinutes is a number that may have decimals (2024: integer).
overrideProperty(doc, 'totalStorageMinutes', { type: 'number' });

/** Replaces, wherever it is declared, the schema of a property the current SDK types differently. */
function overrideProperty(node: unknown, name: string, schema: object): void {
  if (!node || typeof node !== 'object') return;
  const props = (node as { properties?: Record<string, object> }).properties;
  if (props?.[name]) props[name] = { ...props[name], ...schema };
  for (const child of Object.values(node)) overrideProperty(child, name, schema);
}

/**
 * Fields the real API sends as null although the 2024 schema does not mark them nullable
 * (see shared/reference/stream-behavior.md §2.3: creator, uploadExpiry, scheduledDeletion,
 * watermark, ... "or null"). A null there is stripped before validation; any other value is checked.
 */
const NULLABLE_IN_PRACTICE = new Set([
  'creator', 'uploadExpiry', 'scheduledDeletion', 'readyToStreamAt', 'watermark', 'liveInput',
  'clippedFrom', 'maxSizeBytes', 'maxDurationSeconds', 'uploaded', 'publicDetails',
  // Watermark profiles: "downloadedFrom: null for direct uploads" (api-surface.md §2.6).
  'downloadedFrom',
]);

function stripPracticalNulls(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => stripPracticalNulls(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null && depth > 0 && NULLABLE_IN_PRACTICE.has(k)) continue;
      out[k] = stripPracticalNulls(v, depth + 1);
    }
    return out;
  }
  return value;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
const cache = new Map<string, ValidateFunction>();

/** Path as the schema writes it, without /client/v4: e.g. '/accounts/{account_id}/stream/{identifier}'. */
function validatorFor(method: string, path: string, status: '200' | '4XX'): ValidateFunction {
  const key = `${method} ${path} ${status}`;
  let fn = cache.get(key);
  if (!fn) {
    const op = doc.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`no operation ${method} ${path} in the official schema`);
    const schema = op.responses?.[status]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`no JSON schema for ${key}`);
    fn = ajv.compile({ ...schema, components: doc.components });
    cache.set(key, fn);
  }
  return fn;
}

/** Asserts that a response body matches the official schema of that operation and status. */
export function expectSchema(method: string, path: string, status: '200' | '4XX', body: unknown): void {
  const validate = validatorFor(method, path, status);
  const ok = validate(stripPracticalNulls(body));
  expect(ok, `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`).toBe(true);
  const envelope = body as { success?: boolean; errors?: unknown[] };
  if (status === '200') expect(envelope.success).toBe(true);
  else {
    expect(envelope.success).toBe(false);
    expect(envelope.errors?.length).toBeGreaterThan(0);
  }
}
