// The openssl command lines for test certificates, in plain JavaScript so that both the tests
// (tests/support/certs.ts) and the benchmark harness (bench/harness/secure.mjs, which system
// Node 20 runs without TypeScript) build them from one place.

/** Where the tests and the benchmark expect openssl (npm test installs it when run as root). */
export const OPENSSL = "/usr/bin/openssl";

/**
 * `openssl req` arguments for a fresh RSA key and a self-signed certificate.
 * @param {{ keyout: string, out: string, subject: string, days?: number, ext?: string[] }} what
 *   `ext`: `-addext` values (`subjectAltName=IP:127.0.0.1`, ...)
 * @returns {string[]}
 */
export function selfSignedArgs({ keyout, out, subject, days = 2, ext = [] }) {
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyout, "-out", out];
  args.push("-days", String(days), "-subj", subject);
  for (const e of ext) args.push("-addext", e);
  return args;
}
