/**
 * The error answers the request side decides on (waitress's BadRequest,
 * RequestHeaderFieldsTooLarge, RequestEntityTooLarge, ... in utilities.py):
 * the parser and the body receivers build them, the channel sends them and
 * closes.
 *
 * @module
 */

/** The HTTP version an error's status line carries. */
export type HttpVersion = "1.0" | "1.1";

/** An error answer decided while reading a request. */
export interface HttpError {
  /** Status code: 400, 408, 413, 431, 501 or 505. */
  status: number;
  /** Reason phrase for the status line. */
  reason: string;
  /** Human-readable explanation for the error page body. */
  detail: string;
  /** version for the error's status line: the request's if its request line parsed, else "1.0" */
  version: HttpVersion;
}

/** 400: the request is malformed. */
export function badRequest(detail: string, version: HttpVersion): HttpError {
  return { status: 400, reason: "Bad Request", detail, version };
}

/** 413 for a body over `maxBodySize` (waitress's wording). */
export function bodyTooLarge(maxBodySize: number, version: HttpVersion): HttpError {
  return { status: 413, reason: "Request Entity Too Large", detail: `exceeds max_body of ${maxBodySize}`, version };
}

/** 431 for a head over `maxHeaderSize`; waitress answers it with an HTTP/1.0 status line, whatever the request said. */
export function headersTooLarge(maxHeaderSize: number): HttpError {
  return {
    status: 431,
    reason: "Request Header Fields Too Large",
    detail: `exceeds max_header of ${maxHeaderSize}`,
    version: "1.0",
  };
}

/** 501: a transfer coding we do not implement. */
export function notImplemented(detail: string): HttpError {
  return { status: 501, reason: "Not Implemented", detail, version: "1.1" };
}

/**
 * 505 for an HTTP version whose major is not 1 (a higher HTTP/1 minor is
 * served as 1.1, RFC 9110 section 2.5). RFC 9112 section 2.3: the answer
 * carries the highest version we support whose major is at most the request's.
 */
export function versionNotSupported(major: number, minor: number): HttpError {
  return {
    status: 505,
    reason: "HTTP Version Not Supported",
    detail: `HTTP/${major}.${minor} is not supported`,
    version: major >= 1 ? "1.1" : "1.0",
  };
}

/** 408 for a request body that fell behind the minimum body rate (the channel's bodyTimeout/bodyMinRate). */
export function requestTimeout(detail: string, version: "1.0" | "1.1"): HttpError {
  return { status: 408, reason: "Request Timeout", detail, version };
}
