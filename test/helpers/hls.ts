// Reading what the delivery routes serve: HLS playlists and DASH manifests, as a player would.
export interface Variant {
  uri: string;
  resolution: string | undefined;
  bandwidth: number;
  codecs: string | undefined;
}

function attr(line: string, name: string): string | undefined {
  const m = new RegExp(`${name}=("([^"]*)"|[^,]*)`).exec(line);
  return m ? (m[2] ?? m[1]) : undefined;
}

export function parseMaster(text: string): { variants: Variant[]; audio: string[] } {
  const lines = text.split('\n').map((l) => l.trim());
  const variants: Variant[] = [];
  const audio: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const uri = lines.slice(i + 1).find((l) => l && !l.startsWith('#'))!;
      variants.push({ uri, resolution: attr(line, 'RESOLUTION'), bandwidth: Number(attr(line, 'BANDWIDTH')), codecs: attr(line, 'CODECS') });
    }
    if (line.startsWith('#EXT-X-MEDIA:') && attr(line, 'TYPE') === 'AUDIO') audio.push(attr(line, 'URI')!);
  });
  return { variants, audio };
}

/** The init segment (EXT-X-MAP) and media segments of a media playlist, with their durations. */
export function parseMedia(text: string): { init: string | undefined; segments: { uri: string; duration: number }[]; ended: boolean } {
  const lines = text.split('\n').map((l) => l.trim());
  const init = lines.find((l) => l.startsWith('#EXT-X-MAP:'));
  const segments: { uri: string; duration: number }[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('#EXTINF:')) {
      const uri = lines.slice(i + 1).find((l) => l && !l.startsWith('#'))!;
      segments.push({ uri, duration: Number.parseFloat(line.slice(8)) });
    }
  });
  return { init: init ? attr(init, 'URI') : undefined, segments, ended: lines.includes('#EXT-X-ENDLIST') };
}
