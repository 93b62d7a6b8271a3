/**
 * Double-dummy kits and the two views of an allocation (CLINICAL.md sections 3-4).
 *
 * Every kit holds one IV infusion (20 mL) and one SC injection (0.5 mL); the component that
 * does not carry the stratum's active drug - both, in the placebo arm - is saline. The label
 * is a function of the trial and the kit number only (it takes no arm, so it cannot depend
 * on one). Only the pharmacist's (unblinded) view says what a kit contains.
 *
 * The blinded view type has no field that can hold an arm, and it is built field by field
 * (never by copying the unblinded view and deleting), so nothing added to the unblinded view
 * later can reach a blinded reader by accident.
 */
import type { Allocation, Route, TargetedClass, TherapyRuleSet } from '../clinical/therapy.ts';
import { IMMUNOSEP_THERAPY_RULES, regimenFor } from '../clinical/therapy.ts';
import type { IsoDateTime } from '../clinical/types.ts';
import type { TrialArm, TrialDefinition } from './definition.ts';

export interface KitLabelComponent {
  route: Route;
  volumeMl: number;
  text: string;
}

/** What is printed on a kit: identical in every arm and stratum except for the kit number. */
export interface KitLabel {
  trialId: string;
  kitNumber: string;
  title: string;
  components: [KitLabelComponent, KitLabelComponent];
  caution: string;
}

export function kitLabel(definition: Pick<TrialDefinition, 'id'>, kitNumber: string, rules: TherapyRuleSet = IMMUNOSEP_THERAPY_RULES): KitLabel {
  return {
    trialId: definition.id,
    kitNumber,
    title: `Clinical trial ${definition.id}: blinded study medication`,
    components: [
      { route: 'IV', volumeMl: rules.doubleDummy.ivInfusionVolumeMl, text: 'blinded study infusion' },
      { route: 'SC', volumeMl: rules.doubleDummy.scInjectionVolumeMl, text: 'blinded study injection' },
    ],
    caution: 'For clinical trial use only. Give both components as scheduled.',
  };
}

export interface KitComponent {
  route: Route;
  volumeMl: number;
  /** "anakinra (...) 200 mg" or the placebo label. */
  contents: string;
  active: boolean;
}

/** What a kit of a stratum's arm contains (pharmacist only). */
export function kitContents(
  immuneClass: TargetedClass,
  allocation: Allocation,
  rules: TherapyRuleSet = IMMUNOSEP_THERAPY_RULES,
): { iv: KitComponent; sc: KitComponent } {
  const regimen = regimenFor(immuneClass, rules)!;
  const component = (route: Route, volumeMl: number): KitComponent => {
    const active = allocation === 'active' && regimen.route === route;
    const contents = active ? `${regimen.drugLabel} ${regimen.doseAmount} ${regimen.doseUnit}` : rules.doubleDummy.placeboLabel;
    return { route, volumeMl, contents, active };
  };
  return {
    iv: component('IV', rules.doubleDummy.ivInfusionVolumeMl),
    sc: component('SC', rules.doubleDummy.scInjectionVolumeMl),
  };
}

/** An allocation as a blinded role (investigator, clinician, monitor) sees it. */
export interface BlindedAllocation {
  view: 'blinded';
  trialId: string;
  patientId: string;
  siteId: string;
  /** The biomarker stratum is not arm information: investigators know it. */
  immuneClass: TargetedClass;
  stratumKey: string;
  kitNumber: string;
  randomisedAt: IsoDateTime;
  randomisedBy: string;
  /** True once an emergency unblinding was recorded for the patient (the arm is still not shown here). */
  unblinded: boolean;
  withdrawn: boolean;
}

/** The pharmacist's view: the blinded fields plus the slot, the arm and the kit contents. */
export interface UnblindedAllocation extends Omit<BlindedAllocation, 'view'> {
  view: 'unblinded';
  position: number;
  block: number;
  blockSize: number;
  positionInBlock: number;
  arm: Pick<TrialArm, 'id' | 'label' | 'allocation'>;
  kitContents: { iv: KitComponent; sc: KitComponent };
}

export type AllocationView = 'blinded' | 'unblinded';

/** Roles that may see arms (CLINICAL.md section 4: unblinded pharmacists prepare the drug). */
export const UNBLINDED_ROLES: readonly string[] = ['pharmacist'];

export function allocationViewFor(roles: readonly string[]): AllocationView {
  return roles.some((role) => UNBLINDED_ROLES.includes(role)) ? 'unblinded' : 'blinded';
}

/** The blinded view of an unblinded allocation, field by field. */
export function blind(allocation: BlindedAllocation | UnblindedAllocation): BlindedAllocation {
  return {
    view: 'blinded',
    trialId: allocation.trialId,
    patientId: allocation.patientId,
    siteId: allocation.siteId,
    immuneClass: allocation.immuneClass,
    stratumKey: allocation.stratumKey,
    kitNumber: allocation.kitNumber,
    randomisedAt: allocation.randomisedAt,
    randomisedBy: allocation.randomisedBy,
    unblinded: allocation.unblinded,
    withdrawn: allocation.withdrawn,
  };
}
