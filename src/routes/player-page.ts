// The HTML of the embeddable player (`/<uid>/iframe`) and of the standalone page (`/<uid>/watch`).
// hls.js comes from our own node_modules (served at HLS_JS_PATH), never from a CDN.

export const HLS_JS_PATH = '/_ministream/assets/hls.min.js';

export interface PlayerOptions {
  autoplay: boolean;
  muted: boolean;
  loop: boolean;
  controls: boolean;
  preload: 'none' | 'metadata' | 'auto';
  poster: string;
  startTime: number;
  primaryColor: string | undefined;
  /** A live input with nothing live yet: say so, and start once its manifest answers 200. */
  waitForLive?: boolean;
  /** Live DVR (Cloudflare's dvrEnabled=true): the manifest with the whole broadcast, to seek back in. */
  dvr?: boolean;
  /** A caption language (BCP 47) shown from the start when the video has it. */
  defaultTextTrack?: string;
  /** The color around the picture (CSS; `transparent` too). */
  letterboxColor?: string;
  /** A live broadcast whose viewer count is shown (from /<id>/views, every 10 s). */
  viewerCount?: boolean;
  /** The video's publicDetails (Cloudflare's player enhancements): shown over the top of the player. */
  branding?: Branding;
}

export interface Branding {
  title: string | null;
  share_link: string | null;
  channel_link: string | null;
  logo: string | null;
}

/** Only http(s) URLs become links and images. */
const httpUrl = (url: string | null) => (url && /^https?:\/\//i.test(url) ? url : undefined);

/** The title bar of player enhancements: logo (linking to the channel), title, share link. */
function brandingHtml(b: Branding | undefined): string {
  if (!b) return '';
  const logo = httpUrl(b.logo);
  const channel = httpUrl(b.channel_link);
  const share = httpUrl(b.share_link);
  const parts = [
    logo ? `${channel ? `<a href="${escapeHtml(channel)}" target="_blank" rel="noopener">` : ''}<img id="logo" src="${escapeHtml(logo)}" alt="">${channel ? '</a>' : ''}` : '',
    b.title ? `<span id="title">${escapeHtml(b.title)}</span>` : '',
    share ? `<a id="share" href="${escapeHtml(share)}" target="_blank" rel="noopener">Share</a>` : '',
  ].filter(Boolean);
  return parts.length ? `<div id="branding">${parts.join('')}</div>` : '';
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The document's start, up to </head>, shared by both pages. */
function pageHead(title: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>`;
}

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * The player: a <video> driven by hls.js. URLs are relative to the page (/<id>/iframe), so a page
 * opened through a signed token fetches its manifest through the same token.
 * `window.ministreamPlayer` exposes the video element and the hls.js instance to tests and pages.
 */
export function iframeHtml(title: string, opts: PlayerOptions): string {
  const attrs = [
    opts.controls ? 'controls' : '',
    opts.muted ? 'muted' : '',
    opts.loop ? 'loop' : '',
    opts.autoplay ? 'autoplay' : '',
    `preload="${opts.preload}"`,
    `poster="${escapeHtml(opts.poster)}"`,
  ].filter(Boolean).join(' ');
  const accent = opts.primaryColor ? `accent-color:${opts.primaryColor};` : '';
  const letterbox = opts.letterboxColor ?? '#000';
  const waiting = opts.waitForLive ? '<p id="waiting">Stream has not yet started</p>' : '';
  const viewers = opts.viewerCount ? '<span id="viewers"></span>' : '';
  return `${pageHead(title, `html,body{margin:0;height:100%;background:${letterbox};overflow:hidden}video{width:100%;height:100%;display:block;background:${letterbox};${accent}}
#waiting{position:absolute;inset:0;margin:0;display:flex;align-items:center;justify-content:center;color:#eee;font:16px system-ui,sans-serif}
#branding{position:absolute;top:0;left:0;right:0;display:flex;gap:10px;align-items:center;padding:8px 12px;background:linear-gradient(#000a,#0000);color:#fff;font:15px system-ui,sans-serif}
#branding img{height:28px}#branding #share{margin-left:auto;color:#fff}
#viewers{position:absolute;right:10px;bottom:48px;padding:2px 8px;border-radius:4px;background:#000a;color:#fff;font:13px system-ui,sans-serif}#viewers:empty{display:none}`)}
<body>
<video id="player" playsinline ${attrs}></video>
${waiting}${viewers}${brandingHtml(opts.branding)}
<script src="${HLS_JS_PATH}"></script>
<script>
(function () {
  var options = ${scriptJson({ startTime: opts.startTime, autoplay: opts.autoplay, waitForLive: opts.waitForLive === true, defaultTextTrack: opts.defaultTextTrack ?? null, viewerCount: opts.viewerCount === true })};
  var video = document.getElementById('player');
  var source = ${scriptJson(opts.dvr ? 'manifest/video.m3u8?dvrEnabled=true' : 'manifest/video.m3u8')};
  var state = { video: video, hls: null, error: null };
  window.ministreamPlayer = state;
  if (options.startTime > 0) {
    video.addEventListener('loadedmetadata', function () { video.currentTime = options.startTime; }, { once: true });
  }
  function start() {
    if (window.Hls && window.Hls.isSupported()) {
      var config = { startPosition: options.startTime > 0 ? options.startTime : -1 };
      // defaultTextTrack: that caption on from the start (hls.js's own preference, by language).
      if (options.defaultTextTrack) config.subtitlePreference = { lang: options.defaultTextTrack };
      var hls = new window.Hls(config);
      state.hls = hls;
      hls.on(window.Hls.Events.ERROR, function (_event, data) { if (data.fatal) state.error = data.type + ': ' + data.details; });
      // A tag also matches a caption of its language with a region (en for en-US), as hls.js's preference does not.
      if (options.defaultTextTrack) {
        hls.on(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, function (_event, data) {
          var wanted = options.defaultTextTrack.toLowerCase();
          var track = data.subtitleTracks.find(function (t) { var lang = (t.lang || '').toLowerCase(); return lang === wanted || lang.split('-')[0] === wanted; });
          if (track && track.lang !== options.defaultTextTrack) hls.setSubtitleOption({ lang: track.lang });
        });
      }
      hls.loadSource(source);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = source;
    } else {
      state.error = 'this browser can play neither HLS nor Media Source Extensions';
    }
    if (options.autoplay) { video.play().catch(function () { video.muted = true; video.play().catch(function () {}); }); }
  }
  // A live input not yet live answers its manifest with 204: ask again until the broadcast starts.
  function waitForLive() {
    fetch(source, { cache: 'no-store' }).then(function (r) { return r.status === 200; }, function () { return false; }).then(function (live) {
      if (!live) { setTimeout(waitForLive, 2000); return; }
      var note = document.getElementById('waiting');
      if (note) note.remove();
      start();
    });
  }
  // The live viewer count, refreshed every 10 s (relative: through a token path too).
  function showViewers() {
    fetch('views', { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (v) {
      var el = document.getElementById('viewers');
      if (el && v && typeof v.liveViewers === 'number') el.textContent = v.liveViewers + ' watching';
    }, function () {});
  }
  if (options.viewerCount) { showViewers(); setInterval(showViewers, 10000); }
  state.waiting = options.waitForLive;
  if (options.waitForLive) waitForLive(); else start();
})();
</script>
</body>
</html>
`;
}

/** The standalone page: the title and the player. */
export function watchHtml(title: string, iframeUrl: string): string {
  return `${pageHead(title, `body{margin:0;font:16px system-ui,sans-serif;background:#111;color:#eee}main{max-width:960px;margin:0 auto;padding:24px}
.frame{position:relative;padding-top:56.25%}iframe{position:absolute;inset:0;width:100%;height:100%;border:0}h1{font-size:20px;font-weight:600}`)}
<body><main>
<h1>${escapeHtml(title)}</h1>
<div class="frame"><iframe src="${escapeHtml(iframeUrl)}" allow="accelerometer; gyroscope; autoplay; encrypted-media; picture-in-picture;" allowfullscreen></iframe></div>
</main></body>
</html>
`;
}
