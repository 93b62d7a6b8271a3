/**
 * The registry of CLI commands. To add one: write src/cli/commands/NAME.ts exporting a
 * `register` function of type RegisterCommand, and list it here.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.ts';
import type { CommandResult } from '../main.ts';
import { register as analyse } from './analyse.ts';
import { register as audit } from './audit.ts';
import { register as classify } from './classify.ts';
import { register as importData } from './import.ts';
import { register as migrate } from './migrate.ts';
import { register as report } from './report.ts';
import { register as screen } from './screen.ts';
import { register as serve } from './serve.ts';
import { register as simulate } from './simulate.ts';
import { register as sofa } from './sofa.ts';
import { register as synth } from './synth.ts';
import { register as trial } from './trial.ts';
import { register as users } from './users.ts';

export type RegisterCommand = (program: Command, ctx: CommandContext, result: CommandResult) => void;

export const commands: RegisterCommand[] = [serve, migrate, users, importData, screen, synth, classify, sofa, analyse, report, simulate, audit, trial];
