/**
 * First users of a local-issuer deployment.
 * - Demo: with the demo cohort, one user per role (password `demo`), documented in the README.
 *   Never created on a database that was not seeded with the demo cohort.
 * - Admin bootstrap: IMMUNOGUIDE_ADMIN_PASSWORD creates user `admin` (all sites) on a database
 *   with no users; or run `npx immunoguide users add --username admin --role admin --site ...`.
 */
import type { Database } from '../../store/db.ts';
import { listSites } from '../../store/repository.ts';
import { countUsers, createUser } from '../../store/users.ts';
import { hashPassword } from './passwords.ts';
import type { Role } from './principal.ts';

export const DEMO_PASSWORD = 'demo';

export const DEMO_USERS: ReadonlyArray<{ username: string; displayName: string; roles: Role[]; sites: 'all' | string[] }> = [
  { username: 'clinician', displayName: 'Dr. Demo Clinician', roles: ['clinician'], sites: 'all' },
  { username: 'clinician.athens', displayName: 'Dr. Athens Clinician', roles: ['clinician'], sites: ['athens'] },
  { username: 'investigator', displayName: 'Dr. Demo Investigator', roles: ['investigator'], sites: 'all' },
  { username: 'pharmacist', displayName: 'Demo Pharmacist', roles: ['pharmacist'], sites: 'all' },
  { username: 'monitor', displayName: 'Demo Monitor', roles: ['monitor'], sites: 'all' },
  { username: 'statistician', displayName: 'Demo Statistician', roles: ['statistician'], sites: 'all' },
  { username: 'admin', displayName: 'Demo Administrator', roles: ['admin'], sites: 'all' },
];

export async function seedDemoUsers(db: Database): Promise<number> {
  if ((await countUsers(db)) > 0) return 0;
  const allSites = (await listSites(db)).map((s) => s.id);
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  for (const user of DEMO_USERS) {
    await createUser(db, { ...user, passwordHash, sites: user.sites === 'all' ? allSites : user.sites });
  }
  return DEMO_USERS.length;
}

export async function bootstrapAdmin(db: Database, password: string | undefined): Promise<boolean> {
  if (password === undefined || (await countUsers(db)) > 0) return false;
  if (password.length < 12) throw new Error('IMMUNOGUIDE_ADMIN_PASSWORD must have at least 12 characters');
  const sites = (await listSites(db)).map((s) => s.id);
  await createUser(db, { username: 'admin', displayName: 'Administrator', passwordHash: await hashPassword(password), roles: ['admin'], sites });
  return true;
}
