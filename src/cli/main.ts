/**
 * The `immunoguide` command line. Each command lives in src/cli/commands/ and registers itself
 * through commands/index.ts; this file only wires parsing, exit codes and error reporting.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';
import { type RegisterCommand, commandsFor } from './commands/index.ts';
import {
  type CliIo,
  CommandFailure,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  makeContext,
} from './context.ts';

export interface CommandResult {
  exitCode: number;
}

export function buildProgram(io: CliIo, result: CommandResult, commands: readonly RegisterCommand[]): Command {
  const ctx = makeContext(io);
  const program = new Command('immunoguide')
    .description('ImmunoGuide: biomarker-guided immunotherapy for sepsis (SOFA, immune class, therapy, trials)')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  for (const register of commands) register(program, ctx, result);
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const result: CommandResult = { exitCode: EXIT_OK };
  const program = buildProgram(io, result, await commandsFor(argv));
  const wantsJson = argv.includes('--json');
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end parsing with a "success" CommanderError.
      if (error.exitCode === 0) return EXIT_OK;
      if (wantsJson) io.stdout.write(`${JSON.stringify({ error: { kind: 'usage', message: error.message } })}\n`);
      return EXIT_USAGE;
    }
    return reportError(error, io, wantsJson);
  }
}

function reportError(error: unknown, io: CliIo, json: boolean): number {
  const usage = error instanceof UsageError;
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`immunoguide: ${usage ? 'usage error: ' : 'error: '}${message}\n`);
  if (usage) io.stderr.write('(run with --help for usage)\n');
  if (json) {
    const details = error instanceof CommandFailure ? error.details : undefined;
    io.stdout.write(
      `${JSON.stringify({ error: { kind: usage ? 'usage' : 'failure', message, ...(details ? { details } : {}) } })}\n`,
    );
  }
  if (!usage && !(error instanceof CommandFailure) && io.env.DEBUG && error instanceof Error) {
    io.stderr.write(`${error.stack ?? ''}\n`);
  }
  return usage ? EXIT_USAGE : EXIT_FAILURE;
}

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
