// Generates the small media files the tests use, once per run, with real ffmpeg (nothing large is
// committed). Tests read their folder with inject('mediaDir').
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
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

/** name -> ffmpeg arguments (inputs and outputs) that make it, in order (later ones may read earlier ones). */
const clips = (dir: string): Record<string, string[]> => ({
  // 2 s, 320x240, H.264 + AAC: the everyday upload.
  'small.mp4': ['-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
  // 1 s, 176x144, no audio track.
  'silent.mp4': ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=176x144:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  // 2 s of lossless noise, about 17 MiB: big enough for several 5 MiB tus chunks.
  'noise.mp4': ['-f', 'lavfi', '-i', 'nullsrc=s=640x360:r=25,geq=random(1)*255:128:128', '-f', 'lavfi', '-i', 'sine=duration=2',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
  // 3 s 1280x720 at 24 fps, moov first: the ladder's 720p..240p rungs.
  'hd.mp4': ['-f', 'lavfi', '-i', 'testsrc2=duration=3:size=1280x720:rate=24', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=3',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart'],
  // Stored 640x360 with rotation metadata of 90 degrees (set by a remux): displayed as 360x640 portrait.
  'landscape.mp4': ['-f', 'lavfi', '-i', 'testsrc2=duration=2:size=640x360:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  'rotated.mp4': ['-i', join(dir, 'landscape.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90'],
  // Odd dimensions (4:4:4 allows them): the encode must still produce even sizes.
  'odd.mp4': ['-f', 'lavfi', '-i', 'testsrc2=duration=2:size=321x241:rate=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p'],
  // Audio only: Stream takes no audio-only uploads.
  'audio-only.mp4': ['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac'],
  // A solid blue video and a solid red square: a watermark's pixels are easy to find.
  'blue.mp4': ['-f', 'lavfi', '-i', 'color=c=blue:s=320x240:d=2:r=15', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  'red.png': ['-f', 'lavfi', '-i', 'color=c=red:s=64x64', '-frames:v', '1'],
  // A still image: Stream refuses it at upload time (400, 10059).
  'still.png': ['-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1'],
  // 3 s with a 440 Hz tone muted from 1 s to 2 s: generated captions cover the tone, skip the silence.
  'gap.mp4': ['-f', 'lavfi', '-i', 'testsrc=duration=3:size=160x120:rate=10', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3',
    '-filter_complex', "[1:a]volume=enable='between(t,1,2)':volume=0[a]", '-map', '0:v', '-map', '[a]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
  // Extra audio tracks: 3 s of AAC (cut to a shorter video) and 1 s of MP3 (padded with silence).
  'tone.m4a': ['-f', 'lavfi', '-i', 'sine=frequency=880:duration=3', '-c:a', 'aac'],
  'blip.mp3': ['-f', 'lavfi', '-i', 'sine=frequency=660:duration=1', '-c:a', 'libmp3lame'],
  // 8 s 640x360 at 25 fps, a keyframe every second, H.264 + AAC: what an encoder pushes to a live input.
  'live.mp4': ['-f', 'lavfi', '-i', 'testsrc2=duration=8:size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=8',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-c:a', 'aac', '-shortest'],
});

export default function setup(project: TestProject): void {
  // The folder is named after the recipes, so a changed recipe never meets a stale clip.
  const recipes = createHash('sha1').update(JSON.stringify(clips('.'))).digest('hex').slice(0, 10);
  const dir = join(tmpdir(), `ministream-test-media-${recipes}`);
  mkdirSync(dir, { recursive: true });
  const { ffmpeg } = resolveMediaTools();
  for (const [name, args] of Object.entries(clips(dir))) {
    const out = join(dir, name);
    if (existsSync(out)) continue;
    execFileSync(ffmpeg.path, ['-v', 'error', '-y', ...args, `${out}.tmp.${name.split('.').pop()}`]);
    execFileSync('mv', [`${out}.tmp.${name.split('.').pop()}`, out]);
  }
  writeFileSync(join(dir, 'notes.txt'), 'this is not a video\n'.repeat(100));
  // A text file renamed .mp4.
  writeFileSync(join(dir, 'renamed.mp4'), 'definitely not an mp4\n'.repeat(100));
  // Truncated MP4s: cut in the middle of the media data. With moov first the probe still reads it
  // and the decode fails late; with moov last (ffmpeg's default) the probe already fails.
  const hd = readFileSync(join(dir, 'hd.mp4'));
  writeFileSync(join(dir, 'truncated-faststart.mp4'), hd.subarray(0, Math.floor(hd.length * 0.5)));
  const small = readFileSync(join(dir, 'small.mp4'));
  writeFileSync(join(dir, 'truncated.mp4'), small.subarray(0, Math.floor(small.length * 0.5)));
  project.provide('mediaDir', dir);
}
