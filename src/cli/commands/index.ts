/**
 * The registry of CLI commands. To add one: write src/cli/commands/NAME.ts exporting a
 * `register` function of type RegisterCommand, and list it here under the command's name.
 *
 * Commands load lazily: a run loads only the module of the command it names (with what that
 * module imports), so `immunoguide sofa` does not pay for the web server, the database drivers
 * or the statistics. Every command is loaded for the overview (`--help`, `help`, no command) and
 * for a name that is not a command, so commander lists them all or says what is unknown.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import type { CommandResult } from '../main.ts';

export type RegisterCommand = (program: Command, ctx: CommandContext, result: CommandResult) => void;

type CommandModule = () => Promise<{ register: RegisterCommand }>;

/** In the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, CommandModule>> = {
  serve: () => import('./serve.ts'),
  migrate: () => import('./migrate.ts'),
  users: () => import('./users.ts'),
  import: () => import('./import.ts'),
  screen: () => import('./screen.ts'),
  synth: () => import('./synth.ts'),
  classify: () => import('./classify.ts'),
  sofa: () => import('./sofa.ts'),
  analyse: () => import('./analyse.ts'),
  report: () => import('./report.ts'),
  simulate: () => import('./simulate.ts'),
  audit: () => import('./audit.ts'),
  trial: () => import('./trial.ts'),
};

/** The commands a run with these arguments needs (see above). */
export async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  if (name === undefined && (argv.includes('-V') || argv.includes('--version'))) return [];
  const names = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((n) => COMMANDS[n]!()));
  return modules.map((m) => m.register);
}
