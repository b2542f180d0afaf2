/**
 * The events a WebSocket dispatches, built from each runtime's own classes:
 * `MessageEvent` and `CloseEvent` exist on Deno, Bun and Node 24;
 * `ErrorEvent` is missing on Node, where an `Event` named "error" carries
 * the same `message` and `error` fields.
 *
 * @module
 */

/** A "message" event with `data`. */
export function messageEvent(data: unknown, origin: string): MessageEvent {
  return new MessageEvent("message", { data, origin });
}

/** A "close" event. */
export function closeEvent(code: number, reason: string, wasClean: boolean): CloseEvent {
  return new CloseEvent("close", { code, reason, wasClean });
}

/** The shape of the "error" event on every runtime. */
export interface WebSocketErrorEvent extends Event {
  /** What went wrong. */
  readonly message: string;
  /** The underlying error, when there is one. */
  readonly error: unknown;
}

type ErrorEventClass = new (type: string, init: { message: string; error: unknown }) => WebSocketErrorEvent;

/** An "error" event: an `ErrorEvent` where the runtime has one, else an `Event` with the same fields. */
export function errorEvent(message: string, error?: unknown): WebSocketErrorEvent {
  const Native = (globalThis as { ErrorEvent?: ErrorEventClass }).ErrorEvent;
  if (Native) return new Native("error", { message, error });
  const event = new Event("error") as Event & { message: string; error: unknown };
  Object.defineProperties(event, {
    message: { value: message, enumerable: true },
    error: { value: error, enumerable: true },
  });
  return event;
}
