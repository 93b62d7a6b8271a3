// Entry of the SOFA reader threads: threads do not inherit the main thread's TypeScript loader,
// so each registers tsx's (as bin/immunoguide.mjs does) before loading worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
