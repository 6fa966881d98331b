// Small pieces of the dashboard's pages: badges, progress bars, formatted values, and the
// "sections" that the page's script refreshes row by row from the dashboard's JSON endpoint.
import { html, type HtmlValue, type SafeHtml } from './html.js';

/** A row of a refreshable section: its root element carries data-key, so the script can diff rows. */
export interface Row {
  key: string;
  html: SafeHtml;
}

export interface Section {
  /** The data-section name the refresh endpoint answers under. */
  name: string;
  title: string;
  /** Table column headings; none for a block of free HTML. */
  columns?: readonly string[];
  rows: Row[];
  /** Shown when there are no rows. */
  empty: string;
  /** The number shown next to the title, when it is not the number of rows; null shows none. */
  count?: number | null;
  /** Extra HTML under the title (a note, a form). */
  intro?: SafeHtml;
}

export const tr = (key: string, cells: readonly HtmlValue[], cls?: string): Row => ({
  key,
  html: html`<tr data-key="${key}"${cls ? html` class="${cls}"` : ''}>${cells.map((c) => html`<td>${c}</td>`)}</tr>`,
});

export const num = (value: HtmlValue) => html`<span class="num">${value}</span>`;

/** The placeholder row of an empty section. */
export function emptyRow(section: Section): Row {
  const text = html`<span class="empty">${section.empty}</span>`;
  if (!section.columns) return { key: '_empty', html: html`<div data-key="_empty">${text}</div>` };
  return { key: '_empty', html: html`<tr data-key="_empty"><td colspan="${section.columns.length}">${text}</td></tr>` };
}

export const sectionRows = (s: Section): Row[] => (s.rows.length ? s.rows : [emptyRow(s)]);
const sectionCount = (s: Section) => (s.count === undefined ? s.rows.length : s.count);

export function renderSection(s: Section): SafeHtml {
  const rows = sectionRows(s).map((r) => r.html);
  const body = s.columns
    ? html`<div class="scroll"><table><thead><tr>${s.columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody data-section="${s.name}">${rows}</tbody></table></div>`
    : html`<div class="block" data-section="${s.name}">${rows}</div>`;
  const count = sectionCount(s);
  return html`<section class="card" id="${s.name}"><h2>${s.title}${count === null ? '' : html` <span class="count" data-count="${s.name}">${count}</span>`}</h2>${s.intro}${body}</section>`;
}

/** What the refresh endpoint answers for a page's sections (and other figures the page shows). */
export function sectionsJson(sections: readonly Section[], figures: Record<string, string | number> = {}) {
  return {
    sections: Object.fromEntries(sections.map((s) => [s.name, sectionRows(s).map((r) => ({ key: r.key, html: r.html.value }))])),
    counts: { ...Object.fromEntries(sections.flatMap((s) => (sectionCount(s) === null ? [] : [[s.name, sectionCount(s)]]))), ...figures },
  };
}

export const badge = (state: string, label = state) => html`<span class="badge s-${state}">${label}</span>`;

/** A progress bar; without a percentage it is indeterminate (work started, extent unknown). */
export function progressBar(pct: number | undefined): SafeHtml {
  if (pct === undefined) return html`<div class="bar indeterminate" role="progressbar"><span></span></div>`;
  const clamped = Math.max(0, Math.min(100, pct));
  return html`<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${clamped.toFixed(0)}"><span style="width:${clamped.toFixed(1)}%"></span></div>`;
}

export function formatBytes(bytes: number): string {
  if (!(bytes > 0)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Seconds as m:ss (h:mm:ss from an hour); unknown durations (-1) as a dash. */
export function formatDuration(seconds: number): string {
  if (!(seconds >= 0)) return '—';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A stored RFC 3339 timestamp, shown to the second in UTC, exact in the tooltip. */
export function when(timestamp: string | null | undefined): SafeHtml {
  if (!timestamp) return html`<span class="muted">—</span>`;
  const shown = timestamp.replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, '');
  return html`<time datetime="${timestamp}" title="${timestamp}">${shown}</time>`;
}

export const mono = (text: string) => html`<span class="mono">${text}</span>`;
export const muted = (text: string) => html`<span class="muted">${text}</span>`;
