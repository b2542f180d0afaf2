/**
 * permessage-deflate negotiation (RFC 7692 section 7): reads the client's
 * Sec-WebSocket-Extensions offers and picks the first one this server can
 * honour. Pure.
 *
 * @module
 */

/** The parameters agreed for permessage-deflate. */
export interface DeflateParams {
  /** The client asked us not to reuse our compression window between messages. */
  serverNoContextTakeover: boolean;
  /** The client announced it does not reuse its window (we may drop ours between messages). */
  clientNoContextTakeover: boolean;
  /** Our compression window (8 cannot be honoured by zlib's raw deflate, so such offers are declined). */
  serverMaxWindowBits: number;
  /** The Sec-WebSocket-Extensions value for the 101. */
  response: string;
}

/** One offered extension: its name and parameters (value null when given without one). */
export interface ExtensionOffer {
  name: string;
  params: Array<[string, string | null]>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Splits on `sep` outside quoted strings. */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\\" && quoted) i++;
    else if (c === sep && !quoted) {
      parts.push(s.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(s.slice(from));
  return parts;
}

/** Parses a Sec-WebSocket-Extensions value; offers that do not parse are dropped. */
export function parseExtensions(value: string | null): ExtensionOffer[] {
  if (value === null) return [];
  const offers: ExtensionOffer[] = [];
  for (const item of splitOutsideQuotes(value, ",")) {
    const [name, ...rest] = splitOutsideQuotes(item, ";").map((p) => p.trim());
    if (!TOKEN.test(name)) continue;
    const params: Array<[string, string | null]> = [];
    let ok = true;
    for (const p of rest) {
      const eq = p.indexOf("=");
      const key = (eq < 0 ? p : p.slice(0, eq)).trim();
      let val: string | null = eq < 0 ? null : p.slice(eq + 1).trim();
      if (val !== null && val.startsWith('"')) {
        val = val.length >= 2 && val.endsWith('"') ? val.slice(1, -1).replace(/\\(.)/g, "$1") : "";
      }
      if (!TOKEN.test(key) || (val !== null && !TOKEN.test(val))) ok = false;
      params.push([key.toLowerCase(), val]);
    }
    if (ok) offers.push({ name: name.toLowerCase(), params });
  }
  return offers;
}

function windowBits(value: string | null): number {
  return value !== null && /^(8|9|1[0-5])$/.test(value) ? Number(value) : 0;
}

/** The parameters for one permessage-deflate offer, or null when it must be declined. */
function acceptOffer(offer: ExtensionOffer): DeflateParams | null {
  const seen = new Set<string>();
  const out: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    response: "permessage-deflate",
  };
  for (const [key, value] of offer.params) {
    if (seen.has(key)) return null;
    seen.add(key);
    if (key === "server_no_context_takeover" || key === "client_no_context_takeover") {
      if (value !== null) return null;
      if (key === "server_no_context_takeover") out.serverNoContextTakeover = true;
      else out.clientNoContextTakeover = true;
      out.response += `; ${key}`;
    } else if (key === "server_max_window_bits") {
      const bits = windowBits(value);
      if (bits === 0 || bits === 8) return null;
      out.serverMaxWindowBits = bits;
      out.response += `; server_max_window_bits=${bits}`;
    } else if (key === "client_max_window_bits") {
      // A hint that the client can limit its window; we inflate with any window, so we need not answer it.
      if (value !== null && windowBits(value) === 0) return null;
    } else {
      return null;
    }
  }
  return out;
}

/** The first permessage-deflate offer in `header` this server accepts, or null (no compression). */
export function negotiateDeflate(header: string | null): DeflateParams | null {
  for (const offer of parseExtensions(header)) {
    if (offer.name !== "permessage-deflate") continue;
    const params = acceptOffer(offer);
    if (params) return params;
  }
  return null;
}
