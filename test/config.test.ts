import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, helpText, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const { config } = loadConfig([], {});
    expect(config).toEqual(DEFAULTS);
    expect(config.port).toBe(8789);
    expect(config.host).toBe('127.0.0.1');
    expect(config.dataDir).toBe('./.ministream');
  });

  it('reads every flag', () => {
    const { config } = loadConfig(
      ['--port', '9000', '--host', '0.0.0.0', '--data-dir', './data', '--in-memory', '--public-url', 'http://ministream:8789/',
        '--api-token', 'a', '--api-token', 'b', '--log-level', 'debug'],
      {},
    );
    expect(config).toMatchObject({
      port: 9000, host: '0.0.0.0', dataDir: './data', inMemory: true, publicUrl: 'http://ministream:8789',
      apiTokens: ['a', 'b'], logLevel: 'debug',
    });
  });

  it('reads the MINISTREAM_* environment twins, and flags win over them', () => {
    const env = { MINISTREAM_PORT: '9100', MINISTREAM_DATA_DIR: '/tmp/x', MINISTREAM_API_TOKEN: 't1, t2', MINISTREAM_IN_MEMORY: 'true', MINISTREAM_PUBLIC_URL: 'https://example.test' };
    expect(loadConfig([], env).config).toMatchObject({ port: 9100, dataDir: '/tmp/x', apiTokens: ['t1', 't2'], inMemory: true, publicUrl: 'https://example.test' });
    expect(loadConfig(['--port', '9200'], env).config.port).toBe(9200);
  });

  it('refuses bad values with a clear message', () => {
    expect(() => loadConfig(['--port', 'abc'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--log-level', 'loud'], {})).toThrow(/log-level/);
    expect(() => loadConfig(['--public-url', 'not a url'], {})).toThrow(/public-url/);
    expect(() => loadConfig(['--no-such-flag'], {})).toThrow(ConfigError);
  });

  it('lists every flag and its env twin in --help', () => {
    expect(loadConfig(['--help'], {}).help).toBe(true);
    const text = helpText();
    for (const flag of ['--port', '--host', '--data-dir', '--in-memory', '--public-url', '--api-token', '--log-level']) {
      expect(text).toContain(flag);
    }
    for (const env of ['MINISTREAM_PORT', 'MINISTREAM_HOST', 'MINISTREAM_DATA_DIR', 'MINISTREAM_PUBLIC_URL', 'MINISTREAM_API_TOKEN', 'MINISTREAM_LOG_LEVEL']) {
      expect(text).toContain(env);
    }
  });
});
