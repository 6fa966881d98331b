// The frame of every dashboard page: head, top bar, breadcrumbs. Scripts and styles come from
// this server (/_ministream/ui-assets); the Content-Security-Policy the routes send allows
// nothing else, so even a value that escaped escaping could not run.
import { html, type SafeHtml } from './html.js';
import { dashboardPaths } from './paths.js';

export interface Crumb {
  label: string;
  href?: string;
}

export interface PageFrame {
  title: string;
  crumbs: Crumb[];
  /** The JSON endpoint the page's sections refresh from. */
  refresh?: string;
  /** The video state the page was rendered in: the page reloads when it settles. */
  state?: string;
  /** Load tus-js-client (pages with a drop zone). */
  uploads?: boolean;
  /** Link to the API docs, when this server has them. */
  docsPath?: string;
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

export function page(frame: PageFrame, content: SafeHtml): string {
  const crumbs = frame.crumbs.map((c, i) =>
    html`${i ? html`<span class="sep">›</span>` : ''}${c.href ? html`<a href="${c.href}">${c.label}</a>` : html`<span>${c.label}</span>`}`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · Ministream</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${dashboardPaths.css}">
${frame.uploads ? html`<script src="${dashboardPaths.tusClient}" defer></script>` : ''}
<script src="${dashboardPaths.script}" defer></script>
</head>
<body data-refresh="${frame.refresh ?? ''}" data-state="${frame.state ?? ''}">
<header class="top">
<a class="brand" href="${dashboardPaths.overview}">mini<b>stream</b></a>
<nav><a href="${dashboardPaths.overview}">Accounts</a>${frame.docsPath ? html`<a href="${frame.docsPath}">API docs</a>` : ''}<a href="/healthz">Health</a></nav>
<span class="refresh" title="The lists refresh every second while something is in progress">auto-refresh</span>
</header>
<main>
<div class="crumbs">${crumbs}</div>
${content}
</main>
</body>
</html>
`.value;
}
