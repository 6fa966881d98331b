// Generates the small media files the tests use, once per run, with real ffmpeg (nothing large is
// committed). Tests read their folder with inject('mediaDir').
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { resolveMediaTools } from '../../src/transcode/binaries.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mediaDir: string;
  }
}

/** name -> ffmpeg arguments (inputs and outputs) that make it. */
const CLIPS: Record<string, string[]> = {
  // 2 s, 320x240, H.264 + AAC: the everyday upload.
  'small.mp4': ['-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
  // 1 s, 176x144, no audio track.
  'silent.mp4': ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=176x144:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  // 2 s of lossless noise, about 17 MiB: big enough for several 5 MiB tus chunks.
  'noise.mp4': ['-f', 'lavfi', '-i', 'nullsrc=s=640x360:r=25,geq=random(1)*255:128:128', '-f', 'lavfi', '-i', 'sine=duration=2',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
  // A still image: Stream refuses it at upload time (400, 10059).
  'still.png': ['-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1'],
};

export default function setup(project: TestProject): void {
  const dir = join(tmpdir(), 'ministream-test-media-v1');
  mkdirSync(dir, { recursive: true });
  const { ffmpeg } = resolveMediaTools();
  for (const [name, args] of Object.entries(CLIPS)) {
    const out = join(dir, name);
    if (existsSync(out)) continue;
    execFileSync(ffmpeg.path, ['-v', 'error', '-y', ...args, `${out}.tmp.${name.split('.').pop()}`]);
    execFileSync('mv', [`${out}.tmp.${name.split('.').pop()}`, out]);
  }
  writeFileSync(join(dir, 'notes.txt'), 'this is not a video\n'.repeat(100));
  project.provide('mediaDir', dir);
}
