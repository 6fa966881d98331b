// Where the dashboard lives: its pages, its JSON endpoints and its assets, all under /_ministream
// (outside /client/v4 and its auth), on names that no other /_ministream route uses.
import { seg } from './html.js';

export const DASHBOARD_PATH = '/_ministream/dashboard';
export const UI_ASSETS_PATH = '/_ministream/ui-assets';
export const DASHBOARD_API = `${DASHBOARD_PATH}/api`;

export const dashboardPaths = {
  overview: DASHBOARD_PATH,
  /** GET ?account=ID: the form on the overview that opens any account, even one without data. */
  open: `${DASHBOARD_PATH}/open`,
  account: (accountId: string) => `${DASHBOARD_PATH}/accounts/${seg(accountId)}`,
  video: (accountId: string, uid: string) => `${DASHBOARD_PATH}/accounts/${seg(accountId)}/videos/${seg(uid)}`,
  /** The sections of a page, for its auto-refresh. */
  overviewJson: `${DASHBOARD_API}/accounts`,
  accountJson: (accountId: string) => `${DASHBOARD_API}/accounts/${seg(accountId)}`,
  videoSectionsJson: (accountId: string, uid: string) => `${DASHBOARD_API}/accounts/${seg(accountId)}/videos/${seg(uid)}/sections`,
  /** The video object, as GET /stream/{uid} answers it, read from the store without API auth. */
  videoJsonPrefix: (accountId: string) => `${DASHBOARD_API}/accounts/${seg(accountId)}/videos/`,
  /** tus creation for the drop zone when --api-token closes the API to the page. */
  tusProxy: (accountId: string) => `${DASHBOARD_API}/accounts/${seg(accountId)}/tus`,
  css: `${UI_ASSETS_PATH}/dashboard.css`,
  script: `${UI_ASSETS_PATH}/dashboard.js`,
  tusClient: `${UI_ASSETS_PATH}/tus.min.js`,
} as const;

/** Delivery paths on this server; `ref` is the uid, or a signed token for videos that need one. */
export const deliveryPaths = {
  iframe: (ref: string) => `/${ref}/iframe`,
  watch: (ref: string) => `/${ref}/watch`,
  hls: (ref: string) => `/${ref}/manifest/video.m3u8`,
  dash: (ref: string) => `/${ref}/manifest/video.mpd`,
  thumbnail: (ref: string, width?: number) => `/${ref}/thumbnails/thumbnail.jpg${width ? `?width=${width}` : ''}`,
  download: (ref: string, file: string) => `/${ref}/downloads/${file}`,
  caption: (ref: string, language: string) => `/${ref}/manifest/captions_${seg(language)}.vtt`,
};
