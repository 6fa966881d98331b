// The manifests players see, built from what ffmpeg wrote plus the video's ready captions and extra
// audio tracks (pure functions, no I/O; the delivery routes read the files and serve the result).
// HLS: one #EXT-X-MEDIA SUBTITLES rendition per caption (a one-segment WebVTT playlist) and one
// #EXT-X-MEDIA AUDIO rendition per extra track, in the group of the original audio. DASH: one
// AdaptationSet per caption (a WebVTT sidecar file) and one per audio track.

export interface ManifestCaption {
  language: string;
  label: string;
}

export interface ManifestAudioTrack {
  uid: string;
  label: string;
  isDefault: boolean;
}

export interface DashAudioTrack extends ManifestAudioTrack {
  /** The track's own DASH manifest, as ffmpeg wrote it next to its segments. */
  manifest: string;
}

/** GROUP-ID of the subtitle renditions. */
export const SUBTITLES_GROUP = 'subs';
/** GROUP-ID for extra tracks of a video that came without audio (ffmpeg wrote no audio group). */
const NEW_AUDIO_GROUP = 'audio';
const AAC_CODEC = 'mp4a.40.2';

/** Names under /<id>/manifest/ (languages are validated BCP 47 tags: letters, digits, hyphens). */
export const captionPlaylistName = (language: string) => `captions_${language}.m3u8`;
export const captionVttName = (language: string) => `captions_${language}.vtt`;
/** A caption file name under /<id>/manifest/ back to its language and kind, or undefined. */
export function parseCaptionFileName(file: string): { language: string; kind: 'm3u8' | 'vtt' } | undefined {
  const m = /^captions_([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\.(m3u8|vtt)$/.exec(file);
  return m ? { language: m[1]!, kind: m[2] as 'm3u8' | 'vtt' } : undefined;
}
/** Path of an audio track's file, relative to /<id>/manifest/. */
export const audioTrackPath = (trackUid: string, file: string) => `audio/${trackUid}/${file}`;

/** HLS quoted-string values may hold neither double quotes nor line breaks. */
const hlsQuoted = (s: string) => `"${s.replace(/"/g, "'").replace(/[\r\n]+/g, ' ')}"`;

function hlsAttr(line: string, name: string): string | undefined {
  const m = new RegExp(`[:,]${name}=("([^"]*)"|[^,]*)`).exec(line);
  return m ? (m[2] ?? m[1]) : undefined;
}

const isAudioMedia = (line: string) => line.startsWith('#EXT-X-MEDIA:') && hlsAttr(line, 'TYPE') === 'AUDIO';

/**
 * ffmpeg's master playlist with the captions and audio tracks added. `audioPlaylist` names each
 * track's media playlist relative to the master.
 */
export function composeMasterPlaylist(
  master: string,
  captions: readonly ManifestCaption[],
  tracks: readonly ManifestAudioTrack[],
  audioPlaylist: (trackUid: string) => string,
): string {
  const lines = master.replace(/\r\n?/g, '\n').split('\n');
  const originalAudio = lines.find(isAudioMedia);
  const group = (originalAudio && hlsAttr(originalAudio, 'GROUP-ID')) ?? NEW_AUDIO_GROUP;
  const anyDefault = tracks.some((t) => t.isDefault);
  // HLS wants one DEFAULT=YES per group: the default track's, else the original audio's. A video
  // without audio of its own and no default track plays its first extra track.
  const defaultUid = anyDefault ? tracks.find((t) => t.isDefault)!.uid : originalAudio ? undefined : tracks[0]?.uid;
  const media = [
    ...tracks.map(
      (t) =>
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=${hlsQuoted(group)},NAME=${hlsQuoted(t.label)},DEFAULT=${t.uid === defaultUid ? 'YES' : 'NO'},` +
        `AUTOSELECT=YES,CHANNELS="2",URI=${hlsQuoted(audioPlaylist(t.uid))}`,
    ),
    ...captions.map(
      (c) =>
        `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="${SUBTITLES_GROUP}",NAME=${hlsQuoted(c.label)},LANGUAGE=${hlsQuoted(c.language)},` +
        `DEFAULT=NO,AUTOSELECT=YES,URI=${hlsQuoted(captionPlaylistName(c.language))}`,
    ),
  ];
  const out: string[] = [];
  let inserted = false;
  for (const line of lines) {
    if (isAudioMedia(line) && anyDefault) {
      out.push(line.replace(/([:,])DEFAULT=YES/, '$1DEFAULT=NO'));
      continue;
    }
    if (!line.startsWith('#EXT-X-STREAM-INF:')) {
      out.push(line);
      continue;
    }
    if (!inserted) {
      out.push(...media);
      inserted = true;
    }
    let inf = line;
    if (tracks.length && !originalAudio) {
      // The variants had no audio: they now take the group's, and say so in CODECS.
      inf = inf.replace(/([:,]CODECS=")([^"]*)"/, (_m, head: string, codecs: string) => `${head}${codecs},${AAC_CODEC}"`);
      inf += `,AUDIO=${hlsQuoted(group)}`;
    }
    if (captions.length) inf += `,SUBTITLES="${SUBTITLES_GROUP}"`;
    out.push(inf);
  }
  return out.join('\n');
}

/**
 * A caption's HLS media playlist: one segment, the whole WebVTT file. No X-TIMESTAMP-MAP is
 * needed: our fMP4 media timeline starts at 0, where a cue time of 0 is (HLS spec §3.5; hls.js
 * maps cue times against the first fragment's start the same way).
 */
export function captionMediaPlaylist(language: string, durationSeconds: number): string {
  const duration = Math.max(durationSeconds, 0.001);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    `#EXT-X-TARGETDURATION:${Math.ceil(duration)}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${duration.toFixed(3)},`,
    captionVttName(language),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

const xmlEscape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The <Representation> of a track's own manifest, renamed and pointed at the track's folder. */
function trackRepresentation(track: DashAudioTrack): string | undefined {
  const m = /<Representation\b[\s\S]*?<\/Representation>/.exec(track.manifest);
  if (!m) return undefined;
  return m[0]
    .replace(/^<Representation id="[^"]*"/, `<Representation id="audio-${track.uid}"`)
    .replace(/\b(initialization|media)="([^"]*)"/g, (_m, name: string, file: string) => `${name}="${xmlEscape(audioTrackPath(track.uid, file))}"`);
}

/** ffmpeg's DASH manifest with an AdaptationSet per caption and per audio track. */
export function composeDashManifest(mpd: string, captions: readonly ManifestCaption[], tracks: readonly DashAudioTrack[]): string {
  const close = mpd.lastIndexOf('</Period>');
  if (close < 0) return mpd;
  let nextId = Math.max(-1, ...[...mpd.matchAll(/<AdaptationSet\b[^>]*\bid="(\d+)"/g)].map((m) => Number(m[1]))) + 1;
  const sets: string[] = [];
  for (const t of tracks) {
    const representation = trackRepresentation(t);
    if (!representation) continue;
    sets.push(
      `\t\t<AdaptationSet id="${nextId++}" contentType="audio" startWithSAP="1" segmentAlignment="true" lang="und">\n` +
        `\t\t\t<Label>${xmlEscape(t.label)}</Label>\n` +
        `\t\t\t<Role schemeIdUri="urn:mpeg:dash:role:2011" value="${t.isDefault ? 'main' : 'alternate'}" />\n` +
        `\t\t\t${representation}\n` +
        '\t\t</AdaptationSet>\n',
    );
  }
  for (const c of captions) {
    sets.push(
      `\t\t<AdaptationSet id="${nextId++}" contentType="text" mimeType="text/vtt" lang="${xmlEscape(c.language)}">\n` +
        `\t\t\t<Label>${xmlEscape(c.label)}</Label>\n` +
        '\t\t\t<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle" />\n' +
        `\t\t\t<Representation id="caption-${xmlEscape(c.language)}" bandwidth="256">\n` +
        `\t\t\t\t<BaseURL>${xmlEscape(captionVttName(c.language))}</BaseURL>\n` +
        '\t\t\t</Representation>\n' +
        '\t\t</AdaptationSet>\n',
    );
  }
  const lineStart = mpd.lastIndexOf('\n', close) + 1;
  return mpd.slice(0, lineStart) + sets.join('') + mpd.slice(lineStart);
}

// ---- clientBandwidthHint (Cloudflare: "keeps only the representation nearest that bitrate; ignored
// if the result would be empty or invalid") ----

/** The hint as bits per second: a positive number of Mbps, else undefined (ignored). */
export function bandwidthHintBps(mbps: string | undefined): number | undefined {
  if (mbps === undefined || !/^\d+(\.\d+)?$/.test(mbps.trim())) return undefined;
  const bps = Number(mbps) * 1_000_000;
  return bps > 0 ? bps : undefined;
}

/** The index of the value nearest `target` (the first of equals). */
function nearest(values: number[], target: number): number {
  let best = 0;
  values.forEach((v, i) => {
    if (Math.abs(v - target) < Math.abs(values[best]! - target)) best = i;
  });
  return best;
}

/** An HLS master with only the variant whose BANDWIDTH is nearest `bps` (renditions and the rest kept). */
export function keepNearestVariant(master: string, bps: number): string {
  const lines = master.replace(/\r\n?/g, '\n').split('\n');
  const variants: { at: number; bandwidth: number }[] = [];
  lines.forEach((line, at) => {
    const bandwidth = line.startsWith('#EXT-X-STREAM-INF:') ? Number(hlsAttr(line, 'BANDWIDTH')) : NaN;
    if (Number.isFinite(bandwidth) && lines[at + 1] && !lines[at + 1]!.startsWith('#')) variants.push({ at, bandwidth });
  });
  if (variants.length < 2) return master;
  const keep = variants[nearest(variants.map((v) => v.bandwidth), bps)]!.at;
  const drop = new Set(variants.filter((v) => v.at !== keep).flatMap((v) => [v.at, v.at + 1]));
  return lines.filter((_, i) => !drop.has(i)).join('\n');
}

/** A DASH manifest whose video AdaptationSets keep only the Representation nearest `bps`. */
export function keepNearestRepresentation(mpd: string, bps: number): string {
  return mpd.replace(/<AdaptationSet\b[^>]*contentType="video"[^>]*>[\s\S]*?<\/AdaptationSet>/g, (set) => {
    const reps = [...set.matchAll(/[ \t]*<Representation\b[^>]*?(?:\/>|>[\s\S]*?<\/Representation>)\n?/g)].map((m) => m[0]);
    const bandwidths = reps.map((r) => Number(/\bbandwidth="(\d+)"/.exec(r)?.[1]));
    if (reps.length < 2 || bandwidths.some((b) => !Number.isFinite(b))) return set;
    const keep = nearest(bandwidths, bps);
    return reps.reduce((out, rep, i) => (i === keep ? out : out.replace(rep, '')), set);
  });
}
