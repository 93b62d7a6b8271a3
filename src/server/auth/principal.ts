/**
 * Who is calling, and what they may do. Roles follow the trial's separation of duties:
 * investigators and clinicians are blinded to the arm, pharmacists are not; monitors verify;
 * statisticians analyse; admins manage users. Every principal belongs to one or more sites
 * and sees only those sites' patients.
 */
export const ROLES = ['clinician', 'investigator', 'pharmacist', 'monitor', 'statistician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Principal {
  kind: 'user' | 'api-key';
  /** Stable id: the user id, the API key id, or the token's `sub` under an external issuer. */
  id: string;
  /** Human-readable name for audit logs. */
  name: string;
  roles: readonly Role[];
  sites: readonly string[];
}

/** What a role may do. Routes declare the permission they need; this table is the one place that grants it. */
export const PERMISSIONS = {
  'patient:read': ['clinician', 'investigator', 'pharmacist', 'monitor', 'admin'],
  'patient:write': ['clinician', 'investigator', 'admin'],
  'import:run': ['clinician', 'investigator', 'admin'],
  'user:manage': ['admin'],
  'trial:read': ['clinician', 'investigator', 'pharmacist', 'monitor', 'statistician', 'admin'],
  'trial:manage': ['admin'],
  'trial:seed': ['statistician'],
  'trial:randomise': ['investigator'],
  'trial:dispense': ['pharmacist'],
  'trial:unblind': ['investigator'],
  'trial:unblinded-view': ['pharmacist'],
  'analysis:blinded': ['clinician', 'investigator', 'pharmacist', 'monitor', 'statistician', 'admin'],
  'analysis:unblinded': ['statistician', 'pharmacist'],
  'audit:verify': ['monitor', 'admin', 'statistician'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(principal: Principal, permission: Permission): boolean {
  const allowed: readonly Role[] = PERMISSIONS[permission];
  return principal.roles.some((role) => allowed.includes(role));
}
