/**
 * Where the server's messages go: the {@link Logger} interface and the
 * default console logger.
 *
 * @module
 */

/** Logs what the server has to say (waitress logs through Python's `logging`). */
export interface Logger {
  /** Informational messages, such as "Serving on ...". */
  info(message: string): void;
  /** Something went wrong but the server carries on. */
  warn(message: string): void;
  /** An application or socket error. */
  error(message: string): void;
}

/** Logs to the console, prefixed like waitress's logger names. */
export const consoleLogger: Logger = {
  info: (message: string) => console.error(`INFO:waitress:${message}`),
  warn: (message: string) => console.error(`WARNING:waitress:${message}`),
  error: (message: string) => console.error(`ERROR:waitress:${message}`),
};
