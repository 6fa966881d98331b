// The dashboard's pages and the sections their script refreshes. Rendering only: the data comes
// from data.ts, the HTTP from src/routes/dashboard.
import type { AccountSummary } from '../store/account-directory.js';
import { DOWNLOAD_FILES } from '../store/download-store.js';
import type { VideoRecord } from '../store/video-types.js';
import type { DeliveryWithAttempts } from '../store/webhook-store.js';
import {
  badge, formatBytes, formatDuration, mono, muted, num, progressBar, renderSection, tr, when,
  type Row, type Section,
} from './components.js';
import { BUSY_STATES, type AccountData, type ShownVideo, type VideoData } from './data.js';
import { html, type SafeHtml } from './html.js';
import { page, type Crumb } from './layout.js';
import type { LiveInputView } from './live-inputs.js';
import { dashboardPaths, deliveryPaths } from './paths.js';

/** tus chunks of the drop zone: Cloudflare's minimum, a multiple of 256 KiB. */
export const UPLOAD_CHUNK_BYTES = 5 * 1024 * 1024;

export interface PageContext {
  /** Where the API docs are, when this server serves them. */
  docsPath?: string;
  /** http://host:port of this server, for the hints that show API calls. */
  origin: string;
}

const nameOf = (v: VideoRecord) => (typeof v.meta.name === 'string' && v.meta.name.trim() ? v.meta.name : null);
const crumbsTo = (accountId?: string): Crumb[] => [
  { label: 'Accounts', href: dashboardPaths.overview },
  ...(accountId === undefined ? [] : [{ label: accountId, href: dashboardPaths.account(accountId) }]),
];

// ---- overview ----

function accountRow(a: AccountSummary, withLive: boolean): Row {
  return tr(a.accountId, [
    html`<a href="${dashboardPaths.account(a.accountId)}" class="strong">${a.accountId}</a>`,
    num(a.videos),
    a.inProgress ? badge('inprogress', String(a.inProgress)) : num(0),
    num(a.ready),
    a.errored ? badge('error', String(a.errored)) : num(0),
    withLive ? num(a.liveInputs) : null,
    num(a.keys),
    num(a.watermarks),
    a.webhook ? badge('ready', 'subscribed') : muted('none'),
    html`${num(a.deliveries)}${a.failedDeliveries ? html` ${badge('failed', `${a.failedDeliveries} failed`)}` : ''}`,
    when(a.lastActivity),
  ].filter((c) => c !== null));
}

export function overviewSections(accounts: AccountSummary[], ctx: PageContext): Section[] {
  const withLive = accounts.some((a) => a.liveInputs > 0);
  return [
    {
      name: 'accounts',
      title: 'Accounts',
      columns: ['Account', 'Videos', 'In progress', 'Ready', 'Errors', ...(withLive ? ['Live inputs'] : []), 'Signing keys', 'Watermarks', 'Webhook', 'Deliveries', 'Last activity (UTC)'],
      rows: accounts.map((a) => accountRow(a, withLive)),
      empty: `No account holds data yet. Point your app at ${ctx.origin}/client/v4, or open an account below and drop a file on its page.`,
      intro: html`<form class="open" method="get" action="${dashboardPaths.open}">
<label for="open-account">Open an account</label>
<input id="open-account" name="account" type="text" required maxlength="32" placeholder="account id, e.g. my-account" autocomplete="off">
<button class="button" type="submit">Open</button></form>`,
    },
  ];
}

export function overviewPage(accounts: AccountSummary[], ctx: PageContext): string {
  const sections = overviewSections(accounts, ctx);
  return page(
    { title: 'Accounts', crumbs: [{ label: 'Accounts' }], refresh: dashboardPaths.overviewJson, docsPath: ctx.docsPath },
    html`<h1>Accounts</h1>
<p class="sub">Every account id that has videos, keys, watermarks or webhooks on this Ministream. Any account id works: it exists from its first request.</p>
${sections.map(renderSection)}`,
  );
}

// ---- account ----

function stateCell(v: VideoRecord): SafeHtml {
  switch (v.state) {
    case 'inprogress':
      return html`${badge(v.state, `encoding ${v.pctComplete.toFixed(0)}%`)}${progressBar(v.pctComplete)}`;
    case 'queued':
    case 'downloading':
      return html`${badge(v.state)}${progressBar(undefined)}`;
    case 'error':
      return html`${badge(v.state)}<div class="err-text">${v.errorReasonCode}${v.errorReasonText ? `: ${v.errorReasonText}` : ''}</div>`;
    case 'pendingupload':
      return html`${badge(v.state, 'waiting for upload')}`;
    default:
      return badge(v.state);
  }
}

function thumbnail({ video, ref }: ShownVideo, href: string): SafeHtml {
  // A thumbnail needs the uploaded file (not the encode); an errored video has none to show.
  const img = video.sourceFile && video.state !== 'error'
    ? html`<img src="${deliveryPaths.thumbnail(ref, 160)}" alt="" loading="lazy" width="160" height="90">`
    : html`<span class="ph">${video.state === 'error' ? 'no picture' : 'no upload yet'}</span>`;
  return html`<a class="thumb" href="${href}" tabindex="-1">${img}</a>`;
}

function videoRow(accountId: string, shown: ShownVideo): Row {
  const v = shown.video;
  const href = dashboardPaths.video(accountId, v.uid);
  const name = nameOf(v);
  return tr(v.uid, [
    thumbnail(shown, href),
    html`<a class="strong" href="${href}">${name ?? 'Untitled'}</a>${mono(v.uid)}${v.requireSignedURLs ? html` ${badge('info', 'signed URLs')}` : ''}${v.clippedFrom ? html` ${badge('info', 'clip')}` : ''}`,
    stateCell(v),
    num(formatDuration(v.duration)),
    num(v.inputWidth > 0 ? `${v.inputWidth}×${v.inputHeight}` : '—'),
    num(formatBytes(v.size)),
    when(v.created),
  ], `v-${v.state}`);
}

function lastAttempt(d: DeliveryWithAttempts): SafeHtml {
  const last = d.attemptLog[d.attemptLog.length - 1];
  if (!last) return muted('not tried yet');
  if (last.statusCode !== null) return badge(last.statusCode < 300 ? 'ready' : last.statusCode < 500 ? 'queued' : 'error', `HTTP ${last.statusCode}`);
  return badge('error', 'no answer');
}

function deliveryRow(d: DeliveryWithAttempts, videoHref: (uid: string) => string): Row {
  return tr(String(d.id), [
    num(d.id),
    html`<a href="${videoHref(d.videoUid)}" class="mono">${d.videoUid}</a>`,
    badge(d.event),
    badge(d.state),
    num(d.attempts),
    lastAttempt(d),
    d.lastError ? html`<span class="err-text">${d.lastError}</span>` : muted('—'),
    when(d.created),
    d.state === 'pending' ? html`next ${when(new Date(d.nextAttemptAt).toISOString())}` : when(d.finished),
  ]);
}

function deliveriesSection(deliveries: DeliveryWithAttempts[], accountId: string, empty: string): Section {
  return {
    name: 'deliveries',
    title: 'Webhook deliveries',
    columns: ['#', 'Video', 'Event', 'State', 'Attempts', 'Last response', 'Last error', 'Created (UTC)', 'Next / finished'],
    rows: deliveries.map((d) => deliveryRow(d, (uid) => dashboardPaths.video(accountId, uid))),
    empty,
  };
}

function liveRow(input: LiveInputView): Row {
  return tr(input.uid, [
    html`<span class="strong">${input.name ?? 'Untitled'}</span>${mono(input.uid)}`,
    html`${badge(input.status)}${input.enabled === false ? html` ${badge('error', 'disabled')}` : ''}`,
    input.ingest.length
      ? html`<dl class="ingest">${input.ingest.map((i) => html`<dt>${i.protocol}</dt><dd>${mono(i.url)}${i.secrets.map((k) => html`<br>${muted(k.name)} ${mono(k.value)}`)}</dd>`)}</dl>`
      : muted('—'),
    when(input.created),
  ]);
}

export function accountSections(data: AccountData): Section[] {
  const { accountId, webhook } = data;
  const sections: Section[] = [
    {
      name: 'videos',
      title: 'Videos',
      columns: ['', 'Name', 'State', 'Duration', 'Input', 'Size', 'Created (UTC)'],
      rows: data.videos.map((v) => videoRow(accountId, v)),
      count: data.totalVideos,
      empty: 'No videos yet: drop a file above, or upload through the API.',
    },
  ];
  if (data.liveInputs) {
    sections.push({
      name: 'live',
      title: 'Live inputs',
      columns: ['Name', 'Status', 'Ingest', 'Created (UTC)'],
      rows: data.liveInputs.map(liveRow),
      empty: 'No live inputs.',
    });
  }
  sections.push(
    {
      name: 'webhook',
      title: 'Webhook',
      rows: webhook
        ? [{
          key: 'webhook',
          html: html`<div data-key="webhook"><dl class="facts"><dt>Notification URL</dt><dd>${mono(webhook.notificationUrl)}</dd><dt>Modified</dt><dd>${when(webhook.modified)}</dd></dl></div>`,
        }]
        : [],
      count: null,
      empty: 'No webhook subscribed (PUT /stream/webhook).',
    },
    deliveriesSection(data.deliveries, accountId, 'No deliveries yet: a subscribed account gets one when a video becomes ready or fails.'),
    {
      name: 'keys',
      title: 'Signing keys',
      columns: ['Key id', 'Created (UTC)'],
      rows: data.keys.map((k) => tr(k.id, [mono(k.id), when(k.created)])),
      empty: 'No signing keys (POST /stream/keys).',
      intro: html`<p class="note">Only ids and dates: the private key is shown once, in the answer that created it.</p>`,
    },
    {
      name: 'watermarks',
      title: 'Watermarks',
      columns: ['Name', 'Image', 'Position', 'Opacity', 'Padding', 'Scale', 'Created (UTC)'],
      rows: data.watermarks.map((w) =>
        tr(w.uid, [
          html`<span class="strong">${w.name || 'Untitled'}</span>${mono(w.uid)}`,
          html`${w.width}×${w.height}, ${formatBytes(w.size)}${w.downloadedFrom ? html`<br>${muted('from')} ${mono(w.downloadedFrom)}` : ''}`,
          w.position,
          num(w.opacity),
          num(w.padding),
          num(w.scale),
          when(w.created),
        ]),
      ),
      empty: 'No watermark profiles (POST /stream/watermarks).',
    },
  );
  return sections;
}

function dropZone(accountId: string, endpoint: string): SafeHtml {
  return html`<section class="card" id="upload"><h2>Upload</h2>
<div id="dropzone" class="drop" tabindex="0" role="button" aria-label="Upload videos: drop files or choose them"
 data-endpoint="${endpoint}" data-chunk-size="${UPLOAD_CHUNK_BYTES}"
 data-video-api="${dashboardPaths.videoJsonPrefix(accountId)}" data-video-page="${dashboardPaths.video(accountId, '')}">
<strong>Drop video files here</strong> <span class="muted">or</span> <label for="file-input" class="button">Choose files</label>
<div class="muted small">Resumable tus upload in 5 MiB chunks to ${endpoint}</div>
<input id="file-input" type="file" accept="video/*,.mkv,.mov,.mp4,.webm,.avi,.flv,.mxf,.ts,.m2ts" multiple hidden>
</div>
<ul id="uploads" class="uploads"></ul>
</section>`;
}

/** Figures of the account page's header that are not a section's row count. */
export function accountFigures(data: AccountData): Record<string, string | number> {
  return {
    'in-progress': data.videos.filter((v) => BUSY_STATES.includes(v.video.state)).length,
    storage: data.storage.totalStorageMinutes.toFixed(1),
  };
}

export function accountPage(data: AccountData, ctx: PageContext, uploadEndpoint: string): string {
  const { accountId } = data;
  const figures = accountFigures(data);
  // data-count ties each figure to the refresh JSON: section counts and the figures above.
  const stat = (label: string, value: string | number, key: string) => html`<div class="stat"><b data-count="${key}">${value}</b>${label}</div>`;
  return page(
    { title: accountId, crumbs: crumbsTo(accountId), refresh: dashboardPaths.accountJson(accountId), uploads: true, docsPath: ctx.docsPath },
    html`<h1>${accountId}</h1>
<p class="sub">API: ${mono(`${ctx.origin}/client/v4/accounts/${encodeURIComponent(accountId)}/stream`)}</p>
<div class="stats">${stat('videos', data.totalVideos, 'videos')}${stat('in progress', figures['in-progress']!, 'in-progress')}${stat('stored minutes', figures.storage!, 'storage')}${stat('signing keys', data.keys.length, 'keys')}${stat('webhook deliveries', data.deliveries.length, 'deliveries')}</div>
${dropZone(accountId, uploadEndpoint)}
${accountSections(data).map(renderSection)}`,
  );
}

// ---- video ----

function statusBlock(v: VideoRecord): SafeHtml {
  const text =
    v.state === 'pendingupload' ? 'Waiting for the upload to finish.'
      : v.state === 'downloading' ? `Downloading from ${String(v.meta['downloaded-from'] ?? 'its URL')}.`
        : v.state === 'queued' ? 'Queued for encoding.'
          : v.state === 'inprogress' ? `Encoding: ${v.pctComplete.toFixed(1)}%.`
            : v.state === 'error' ? `${v.errorReasonCode}: ${v.errorReasonText}`
              : `State ${v.state}.`;
  return html`<div data-key="status" class="status-box">${stateCell(v)}<p>${text}</p></div>`;
}

function facts({ video: v, ref }: ShownVideo, accountId: string): SafeHtml {
  const fact = (label: string, value: SafeHtml | string | number) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const link = (label: string, href: string) => html`<a href="${href}">${label}</a>`;
  const ready = v.readyToStream;
  return html`<div data-key="facts"><dl class="facts">
${fact('UID', mono(v.uid))}
${fact('State', html`${badge(v.state)} ${muted(`${v.pctComplete.toFixed(1)}%`)}`)}
${fact('Duration', formatDuration(v.duration))}
${fact('Input', v.inputWidth > 0 ? `${v.inputWidth}×${v.inputHeight}` : '—')}
${fact('Size', formatBytes(v.size))}
${fact('Created', when(v.created))}
${fact('Uploaded', when(v.uploaded))}
${fact('Ready since', when(v.readyToStreamAt))}
${v.creator ? fact('Creator', v.creator) : ''}
${fact('Signed URLs', v.requireSignedURLs ? 'required (shown here through a token of the account key)' : 'not required')}
${v.allowedOrigins.length ? fact('Allowed origins', v.allowedOrigins.join(', ')) : ''}
${v.scheduledDeletion ? fact('Deleted at', when(v.scheduledDeletion)) : ''}
${v.clippedFrom ? fact('Clipped from', html`<a class="mono" href="${dashboardPaths.video(accountId, v.clippedFrom)}">${v.clippedFrom}</a>`) : ''}
${v.watermark ? fact('Watermark', mono(v.watermark.uid)) : ''}
${v.liveInput ? fact('Live input', mono(v.liveInput)) : ''}
${fact('Links', html`${ready ? html`${link('HLS', deliveryPaths.hls(ref))} · ${link('DASH', deliveryPaths.dash(ref))} · ${link('watch page', deliveryPaths.watch(ref))} · ` : ''}${v.sourceFile ? link('thumbnail', deliveryPaths.thumbnail(ref)) : muted('none yet')}`)}
</dl></div>`;
}

const percentCell = (status: string, pct: number) => (status === 'inprogress' ? html`${num(`${pct.toFixed(0)}%`)}${progressBar(pct)}` : num(`${pct.toFixed(0)}%`));

export function videoSections(data: VideoData, json: unknown): Section[] {
  const { video: v, ref } = data;
  const sections: Section[] = [];
  if (!v.readyToStream) sections.push({ name: 'status', title: 'Status', rows: [{ key: 'status', html: statusBlock(v) }], empty: '', count: null });
  sections.push(
    { name: 'facts', title: 'Details', rows: [{ key: 'facts', html: facts(data, v.accountId) }], empty: '', count: null },
    {
      name: 'downloads',
      title: 'Downloads',
      columns: ['Type', 'Status', 'Progress', 'File', 'Updated (UTC)'],
      rows: data.downloads.map((d) =>
        tr(d.type, [
          d.type,
          badge(d.status),
          percentCell(d.status, d.percentComplete),
          d.status === 'ready' ? html`<a href="${deliveryPaths.download(ref, DOWNLOAD_FILES[d.type])}">${DOWNLOAD_FILES[d.type]}</a>` : muted('—'),
          when(d.updated),
        ]),
      ),
      empty: 'No downloads (POST /stream/{id}/downloads).',
    },
    {
      name: 'captions',
      title: 'Captions',
      columns: ['Language', 'Label', 'Source', 'Status', 'File', 'Modified (UTC)'],
      rows: data.captions.map((c) =>
        tr(c.language, [
          mono(c.language),
          c.label,
          c.generated ? 'generated' : 'uploaded',
          badge(c.status),
          c.status === 'ready' ? html`<a href="${deliveryPaths.caption(ref, c.language)}">captions_${c.language}.vtt</a>` : muted('—'),
          when(c.modified),
        ]),
      ),
      empty: 'No captions (PUT /stream/{id}/captions/{language}).',
    },
    {
      name: 'audio',
      title: 'Audio tracks',
      columns: ['Label', 'UID', 'Default', 'Status', 'Created (UTC)'],
      rows: data.audioTracks.map((t) => tr(t.uid, [t.label, mono(t.uid), t.isDefault ? badge('ready', 'default') : muted('—'), badge(t.status), when(t.created)])),
      empty: 'No extra audio tracks (POST /stream/{id}/audio).',
    },
    deliveriesSection(data.deliveries, v.accountId, 'No webhook deliveries for this video.'),
    {
      name: 'json',
      title: 'Video object (as GET /stream/{id} answers)',
      rows: [{ key: 'json', html: html`<pre class="json" data-key="json">${JSON.stringify(json, null, 2)}</pre>` }],
      empty: '',
      count: null,
    },
  );
  return sections;
}

export function videoPage(data: VideoData, json: unknown, ctx: PageContext): string {
  const { video: v, ref } = data;
  const name = nameOf(v);
  const sections = videoSections(data, json);
  const byName = new Map(sections.map((s) => [s.name, s]));
  const section = (n: string) => (byName.has(n) ? renderSection(byName.get(n)!) : '');
  const player = v.readyToStream
    ? html`<section class="card" id="player"><div class="player"><iframe src="${deliveryPaths.iframe(ref)}?muted=true&amp;preload=auto" title="${name ?? v.uid}" allow="accelerometer; gyroscope; autoplay; encrypted-media; picture-in-picture;" allowfullscreen></iframe></div></section>`
    : section('status');
  return page(
    {
      title: name ?? v.uid,
      crumbs: [...crumbsTo(v.accountId), { label: name ?? v.uid }],
      refresh: dashboardPaths.videoSectionsJson(v.accountId, v.uid),
      state: v.state,
      docsPath: ctx.docsPath,
    },
    html`<h1>${name ?? 'Untitled'} ${badge(v.state)}</h1>
<p class="sub">${mono(v.uid)}</p>
<div class="grid"><div>${player}</div><div>${section('facts')}</div></div>
${['downloads', 'captions', 'audio', 'deliveries', 'json'].map(section)}`,
  );
}

export function notFoundPage(what: string, accountId: string | undefined, ctx: PageContext): string {
  return page(
    { title: 'Not found', crumbs: crumbsTo(accountId), docsPath: ctx.docsPath },
    html`<h1>Not found</h1><p class="sub">${what}</p>`,
  );
}
