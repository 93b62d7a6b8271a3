/**
 * Which pages each role sees in the navigation. The server is the authority (it answers 403 to
 * anything a role may not do, and every page handles that); this table only keeps the menu free
 * of pages a user cannot use. It follows the server's PERMISSIONS table (src/server/auth/principal.ts):
 * census = patient:read, imports = import:run, trial desk = randomise / dispense / unblind /
 * audit:verify, analysis = analysis:blinded.
 */
export type Role = 'clinician' | 'investigator' | 'pharmacist' | 'monitor' | 'statistician' | 'admin';

export type Page = 'census' | 'imports' | 'trial' | 'analysis';

const PAGE_ROLES: Record<Page, readonly Role[]> = {
  census: ['clinician', 'investigator', 'pharmacist', 'monitor', 'admin'],
  imports: ['clinician', 'investigator', 'admin'],
  trial: ['investigator', 'pharmacist', 'monitor', 'statistician', 'admin'],
  analysis: ['clinician', 'investigator', 'pharmacist', 'monitor', 'statistician', 'admin'],
};

export const PAGE_LABELS: Record<Page, string> = {
  census: 'ICU census',
  imports: 'Imports',
  trial: 'Trial desk',
  analysis: 'Analysis',
};

export const PAGE_ORDER: readonly Page[] = ['census', 'imports', 'trial', 'analysis'];

export function canSee(roles: readonly string[], page: Page): boolean {
  return roles.some((role) => (PAGE_ROLES[page] as readonly string[]).includes(role));
}

export function visiblePages(roles: readonly string[]): Page[] {
  return PAGE_ORDER.filter((page) => canSee(roles, page));
}

/** Roles that may see the treatment arm (unblinded): the server decides, this only labels views. */
export function isUnblindedRole(roles: readonly string[]): boolean {
  return roles.includes('pharmacist') || roles.includes('statistician');
}
