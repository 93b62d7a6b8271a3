/**
 * What every CLI command receives: its output streams and environment, injectable so tests run
 * commands in-process. Conventions shared by all commands:
 * - `--json`: stdout carries exactly one JSON document (the result, or {"error": {...}} on
 *   failure); human-readable text otherwise. Diagnostics and progress go to stderr.
 * - Exit codes: 0 success, 1 failure (bad data, refused input, I/O), 2 usage error.
 */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Wrong invocation: unknown flag value, missing argument. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran but could not do what was asked (refused input, unreadable file...). Exit code 1. */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
  /** Machine-readable details included in the --json error document. */
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.details = details;
  }
}

export interface CommandContext extends CliIo {
  /** Prints the result: JSON when asked, the human text otherwise. */
  print(json: boolean, value: unknown, human: () => string): void;
}

export function makeContext(io: CliIo): CommandContext {
  return {
    ...io,
    print(json, value, human) {
      io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : ensureNewline(human()));
    },
  };
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
