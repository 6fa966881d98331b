// Cloudflare's allowedOrigins matching (cloudflare-docs PR #17331): `*` allows all; `*.example.com`
// matches subdomains at any depth but not example.com; `example.com` matches that host only; a
// localhost entry names its port unless it is 80 (http) or 443 (https); paths are ignored.

/** `host` or `host:port` of an Origin or Referer URL, with default ports dropped; undefined if unparseable. */
export function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.host.toLowerCase(); // URL drops :80 for http and :443 for https
  } catch {
    return undefined;
  }
}

function entryMatches(entry: string, host: string): boolean {
  const e = entry.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (e === '*') return true;
  if (e.startsWith('*.')) {
    const suffix = e.slice(1); // ".example.com"
    const bare = host.replace(/:\d+$/, '');
    return (bare.endsWith(suffix) && bare.length > suffix.length) || (host.endsWith(suffix) && host.length > suffix.length);
  }
  // An entry with a port must match it exactly; one without matches the host on a default port.
  return e === host;
}

export function originAllowed(allowedOrigins: string[], requestHost: string): boolean {
  if (allowedOrigins.length === 0) return true;
  return allowedOrigins.some((entry) => entryMatches(entry, requestHost));
}
