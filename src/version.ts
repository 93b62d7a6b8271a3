import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** ImmunoGuide's version, from package.json (reported by /health and `immunoguide --version`). */
export const VERSION: string = (require('../package.json') as { version: string }).version;
