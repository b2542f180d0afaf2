/**
 * Loads and checks TLS material for the listeners: gunicorn's `certfile`,
 * `keyfile`, `keyfilePassword`, `caCerts` and `certReqs`, each file option
 * taking a path or the PEM text itself.
 *
 * Everything is checked here, at start-up and on every reload, with the same
 * result on every runtime: the key is decrypted with its password and must
 * match the certificate. (Deno's `createSecureContext` checks nothing, and its
 * TLS takes neither encrypted keys nor a key and certificate in one file, so
 * the adapters are handed one unencrypted key and the certificates apart.)
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TlsConfig } from "./socket/types.ts";

/** Whether and how client certificates are asked for (gunicorn's `--cert-reqs`). */
export type CertReqs = "none" | "optional" | "required";

/** The TLS options as given, file options as paths or PEM text. */
export interface TlsSource {
  /** The certificate chain (and possibly the key). */
  certfile: string;
  /** The private key; the certificate file's own key when absent. */
  keyfile?: string;
  /** The password of an encrypted key. */
  keyfilePassword?: string;
  /** CA certificates that client certificates must chain to. */
  caCerts?: string;
  /** `none` (default), `optional` (verified when sent) or `required`. */
  certReqs?: CertReqs;
}

/** `serve()`'s `tls` option: Deno.serve's and Bun.serve's names, each PEM text or a path. */
export interface TlsInit {
  /** The certificate chain (and possibly the key). */
  cert: string;
  /** The private key; the certificate's own file's key when absent. */
  key?: string;
  /** The password of an encrypted key. */
  passphrase?: string;
  /** CA certificates that client certificates must chain to. */
  ca?: string;
  /** Client certificates: `none` (default), `optional` or `required`. */
  certReqs?: CertReqs;
}

/** The TLS fields of the server's options: gunicorn's flags, or one `tls` object. */
export interface TlsFields {
  certfile?: string;
  keyfile?: string;
  keyfilePassword?: string;
  caCerts?: string;
  certReqs?: string;
  tls?: TlsInit;
}

const CERT_REQS: readonly string[] = ["none", "optional", "required"];

/** Where the TLS material comes from, or undefined for plain TCP. Throws when the options contradict themselves. */
export function tlsSourceOf(options: TlsFields): TlsSource | undefined {
  const flags = options.certfile !== undefined || options.keyfile !== undefined || options.caCerts !== undefined;
  const init = options.tls;
  if (init !== undefined && flags) {
    throw new TlsOptionError("tls", "give either tls or certfile/keyfile/caCerts, not both");
  }
  const certReqs = init?.certReqs ?? options.certReqs ?? "none";
  if (!CERT_REQS.includes(certReqs)) {
    throw new TlsOptionError(
      "certReqs",
      `--cert-reqs must be none, optional or required, got ${JSON.stringify(certReqs)}`,
    );
  }
  if (init !== undefined) {
    if (typeof init.cert !== "string") throw new TlsOptionError("tls", "tls.cert must be PEM text or a path");
    return {
      certfile: init.cert,
      keyfile: init.key,
      keyfilePassword: init.passphrase,
      caCerts: init.ca,
      certReqs: certReqs as CertReqs,
    };
  }
  if (options.certfile === undefined) {
    if (!flags && certReqs === "none" && options.keyfilePassword === undefined) return undefined;
    throw new TlsOptionError("certfile", "TLS options need --certfile");
  }
  return {
    certfile: options.certfile,
    keyfile: options.keyfile,
    keyfilePassword: options.keyfilePassword,
    caCerts: options.caCerts,
    certReqs: certReqs as CertReqs,
  };
}

/** A TLS option that cannot be used; `option` is its camelCase name. */
export class TlsOptionError extends Error {
  /** The camelCase name of the option at fault. */
  readonly option: string;
  /** Builds the error for `option`. */
  constructor(option: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "TlsOptionError";
    this.option = option;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** PEM text as given, or the contents of the file it names. */
function pemOf(option: string, flag: string, value: string): string {
  if (value.includes("-----BEGIN ")) return value;
  try {
    return readFileSync(value, "utf8");
  } catch (error) {
    throw new TlsOptionError(option, `cannot read --${flag} ${value}: ${(error as Error).message}`, error);
  }
}

/** The PEM blocks of `text` whose label satisfies `wanted`, joined. */
function blocks(text: string, wanted: (label: string) => boolean): string {
  const out: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) if (wanted(m[1])) out.push(m[0]);
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

const isCertificate = (label: string): boolean => label === "CERTIFICATE";
const isKey = (label: string): boolean => label.endsWith("PRIVATE KEY");

function decryptedKey(pem: string, password: string | undefined): ReturnType<typeof createPrivateKey> {
  try {
    return createPrivateKey(password === undefined ? { key: pem } : { key: pem, passphrase: password });
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(pem);
    const why = encrypted && password === undefined
      ? "the key is encrypted: give --keyfile-password"
      : encrypted
      ? "wrong --keyfile-password, or a damaged key"
      : (error as Error).message;
    throw new TlsOptionError(encrypted ? "keyfilePassword" : "keyfile", `cannot load the TLS key: ${why}`, error);
  }
}

/** Reads the certificate, key and CA files and checks them; throws `TlsOptionError` naming the option. */
export function loadTlsConfig(source: TlsSource): TlsConfig {
  const certText = pemOf("certfile", "certfile", source.certfile);
  const cert = blocks(certText, isCertificate);
  if (cert === "") throw new TlsOptionError("certfile", "--certfile holds no PEM certificate");
  const keyText = source.keyfile === undefined ? certText : pemOf("keyfile", "keyfile", source.keyfile);
  const keyPem = blocks(keyText, isKey);
  if (keyPem === "") {
    const where = source.keyfile === undefined
      ? "--certfile holds no private key: give --keyfile"
      : "--keyfile holds no PEM private key";
    throw new TlsOptionError("keyfile", where);
  }
  const key = decryptedKey(keyPem, source.keyfilePassword);
  let matches = false;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(key);
  } catch (error) {
    throw new TlsOptionError("certfile", `cannot load --certfile: ${(error as Error).message}`, error);
  }
  if (!matches) throw new TlsOptionError("keyfile", "the TLS key does not belong to the certificate in --certfile");
  const certReqs = source.certReqs ?? "none";
  let ca: string | undefined;
  if (source.caCerts !== undefined) {
    ca = blocks(pemOf("caCerts", "ca-certs", source.caCerts), isCertificate);
    if (ca === "") throw new TlsOptionError("caCerts", "--ca-certs holds no PEM certificate");
  }
  if (certReqs !== "none" && ca === undefined) {
    throw new TlsOptionError("certReqs", `--cert-reqs=${certReqs} needs --ca-certs to verify client certificates`);
  }
  return {
    cert,
    key: key.export({ type: "pkcs8", format: "pem" }) as string,
    ca,
    requestCert: certReqs !== "none",
    rejectUnauthorized: certReqs === "required",
  };
}
