// ffmpeg resolution: FFMPEG_PATH, else the system's, else the one npm installed.
import { describe, expect, it } from 'vitest';
import { resolveMediaTools } from '../src/transcode/binaries.js';

describe('ffmpeg and ffprobe resolution', () => {
  it('falls back to the binaries shipped in the npm packages when the system has none', () => {
    const tools = resolveMediaTools({ PATH: '/nonexistent' });
    expect(tools.ffmpeg.source).toBe('npm');
    expect(tools.ffprobe.source).toBe('npm');
    expect(tools.ffmpeg.version).toMatch(/^ffmpeg version/);
    expect(tools.ffprobe.version).toMatch(/^ffprobe version/);
  });

  it('honours FFMPEG_PATH and FFPROBE_PATH first', () => {
    const npm = resolveMediaTools({ PATH: '/nonexistent' });
    const tools = resolveMediaTools({ PATH: process.env.PATH, FFMPEG_PATH: npm.ffmpeg.path, FFPROBE_PATH: npm.ffprobe.path });
    expect(tools.ffmpeg).toMatchObject({ source: 'env', path: npm.ffmpeg.path });
    expect(tools.ffprobe).toMatchObject({ source: 'env', path: npm.ffprobe.path });
  });

  it('refuses an FFMPEG_PATH that does not run', () => {
    expect(() => resolveMediaTools({ FFMPEG_PATH: '/nonexistent/ffmpeg' })).toThrow(/does not run/);
  });
});
