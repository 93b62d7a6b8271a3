#!/usr/bin/env node
// Entry point for `npx immunoguide` and `npm start`. The sources are TypeScript run through
// tsx's loader, so a fresh clone needs no build step (see docs/architecture.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
