/**
 * Test certificates, made fresh by /usr/bin/openssl in a temporary
 * directory: a CA, a server certificate for 127.0.0.1 and localhost signed by
 * it, a second server certificate (for reloads), a client certificate signed
 * by the CA and one self-signed client certificate the CA does not know.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPENSSL, selfSignedArgs } from "./openssl.mjs";

/** Paths of the PEM files; `remove()` deletes the directory. */
export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The server key encrypted with `password`. */
  serverKeyEncrypted: string;
  password: string;
  otherCert: string;
  otherKey: string;
  clientCert: string;
  clientKey: string;
  strangerCert: string;
  strangerKey: string;
  /** Reads one of the files as text. */
  read(path: string): string;
  remove(): void;
}

/** True when openssl is installed (npm test installs it as root; say so when it is not). */
export const haveOpenssl: boolean = existsSync(OPENSSL);

function openssl(dir: string, args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** `-addext` values in `ext`. */
function selfSigned(dir: string, name: string, subject: string, ext: string[] = []): void {
  openssl(dir, selfSignedArgs({ keyout: `${name}.key`, out: `${name}.pem`, subject, ext }));
}

function signed(dir: string, name: string, subject: string, extLines: string): void {
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
  writeFileSync(join(dir, `${name}.ext`), extLines);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  ]);
}

/** Makes the whole set (about a second of openssl). */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "waitress-tls-"));
  try {
    selfSigned(dir, "ca", "/CN=Test CA", ["basicConstraints=critical,CA:TRUE", "keyUsage=keyCertSign"]);
    signed(dir, "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    signed(dir, "client", "/CN=alice/O=Example", "extendedKeyUsage=clientAuth\n");
    selfSigned(dir, "other", "/CN=other.test", ["subjectAltName=DNS:other.test,IP:127.0.0.1"]);
    selfSigned(dir, "stranger", "/CN=mallory");
    openssl(dir, ["pkey", "-in", "server.key", "-aes256", "-passout", "pass:s3cret", "-out", "server-enc.key"]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCert: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    serverKeyEncrypted: p("server-enc.key"),
    password: "s3cret",
    otherCert: p("other.pem"),
    otherKey: p("other.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    strangerCert: p("stranger.pem"),
    strangerKey: p("stranger.key"),
    read: (path) => readFileSync(path, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
