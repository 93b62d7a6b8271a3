/** The registry of immune classification rule sets. `immunosep` is the default. */
import type { ImmuneRuleSet } from '../types.ts';
import { HSCORE } from './hscore.ts';
import { IMMUNOSEP } from './immunosep.ts';
import { PROVIDE_2017 } from './provide-2017.ts';
import { SUPAR } from './supar.ts';

export { HSCORE, IMMUNOSEP, PROVIDE_2017, SUPAR };

export const IMMUNE_RULE_SETS: readonly ImmuneRuleSet[] = [IMMUNOSEP, PROVIDE_2017, HSCORE, SUPAR];

export const DEFAULT_IMMUNE_RULE_SET: ImmuneRuleSet = IMMUNOSEP;

/** The rule set with this id (exact match), or undefined. */
export function findImmuneRuleSet(id: string): ImmuneRuleSet | undefined {
  return IMMUNE_RULE_SETS.find((ruleSet) => ruleSet.id === id);
}
