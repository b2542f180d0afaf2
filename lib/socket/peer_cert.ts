/**
 * The client certificate's subject, written the same way on every runtime:
 * from the certificate itself, in its own order (`CN=alice, O=Example`). The
 * runtimes' parsed `subject` objects differ in key order.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";

/** The subject of a DER certificate as `CN=alice, O=Example`; undefined without one. */
export function subjectOf(der: Uint8Array | undefined): string | undefined {
  if (der === undefined || der.length === 0) return undefined;
  try {
    return new X509Certificate(der).subject.split("\n").join(", ");
  } catch {
    return undefined;
  }
}
