/**
 * The command line's errors: each is something the user can fix, printed as
 * one line (`Error: ...`) with exit status 1.
 *
 * @module
 */
import { OPTION_TABLE } from "../option_table.ts";
import type { OptionSpec } from "../option_spec.ts";
import { OptionError } from "../option_values.ts";

/** A command-line mistake: printed as one line, exit status 1. */
export class UsageError extends Error {
  /** Builds the error; the message is shown to the user as is. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The application could not be found or is not an app: printed as one line, exit status 1. */
export class AppLoadError extends Error {
  /** Builds the error; the message is shown to the user as is. */
  constructor(message: string) {
    super(message);
    this.name = "AppLoadError";
  }
}

/** The first line of an error's message, without a stack. */
export function reason(error: unknown): string {
  const message = error instanceof Error ? `${error.message}` : String(error);
  return message.split("\n")[0].trim() || (error instanceof Error ? error.name : "unknown error");
}

/** The one line printed for any error the user can fix. */
export function errorLine(error: unknown): string {
  if (error instanceof OptionError) {
    // Validation messages speak of serve() names; say which flag too.
    const flag = (OPTION_TABLE as Record<string, OptionSpec | undefined>)[error.option]?.flag;
    const named = flag === undefined || error.message.includes(`--${flag}`);
    return `Error: ${error.message}${named ? "" : ` (--${flag})`}`;
  }
  if (error instanceof UsageError || error instanceof AppLoadError) return `Error: ${error.message}`;
  return `Error: ${reason(error)}`;
}
