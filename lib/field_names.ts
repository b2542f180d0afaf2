/**
 * The header field names most requests carry, recognised in the head's text
 * without slicing or lower-casing it: the parser stores these constant
 * (interned) strings, so a common name costs no allocation, and every later
 * comparison with a literal (framing, proxy headers, Upgrade) is a pointer
 * check.
 *
 * @module
 */

/** Lower-case names; letters, digits and "-" only (see {@link knownFieldName} for why). */
const KNOWN: readonly string[] = [
  "host",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "connection",
  "keep-alive",
  "content-length",
  "content-type",
  "transfer-encoding",
  "expect",
  "upgrade",
  "cookie",
  "referer",
  "origin",
  "authorization",
  "cache-control",
  "pragma",
  "priority",
  "if-none-match",
  "if-modified-since",
  "range",
  "te",
  "dnt",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-by",
  "x-real-ip",
  "x-request-id",
  "forwarded",
  "via",
  "sec-fetch-dest",
  "sec-fetch-mode",
  "sec-fetch-site",
  "sec-fetch-user",
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "upgrade-insecure-requests",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
];

/** The known names grouped by length; every length up to the longest has a (possibly empty) group. */
const BY_LENGTH: string[][] = [];
for (const name of KNOWN) {
  while (BY_LENGTH.length <= name.length) BY_LENGTH.push([]);
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`field_names: ${name} is not lower-case letters, digits and "-"`);
  BY_LENGTH[name.length].push(name);
}

/**
 * The known lower-case name equal, ignoring ASCII case, to `s[start, end)`,
 * or undefined. The caller guarantees that `s[start, end)` is a token (RFC
 * 9110 tchar only): then `c | 0x20` equals a lower-case letter only for that
 * letter and its upper case, and equals "-" or a digit only for itself
 * (the other candidates, CR and control bytes, are not tchar).
 */
export function knownFieldName(s: string, start: number, end: number): string | undefined {
  const length = end - start;
  if (length >= BY_LENGTH.length) return undefined;
  const group = BY_LENGTH[length];
  const first = s.charCodeAt(start) | 0x20;
  for (let k = 0; k < group.length; k++) {
    const name = group[k];
    if (name.charCodeAt(0) !== first) continue;
    let i = 1;
    while (i < name.length && (s.charCodeAt(start + i) | 0x20) === name.charCodeAt(i)) i++;
    if (i === name.length) return name;
  }
  return undefined;
}
