/** Decision of single-marker rule sets (suPAR): the positive class when the comparison holds. */
import { compare } from './comparison.ts';
import { type Decision, unavailability, unavailable } from './decision.ts';
import type { InputSelection } from './samples.ts';
import type { SingleMarkerRuleSet } from './types.ts';

export function decideSingleMarker(ruleSet: SingleMarkerRuleSet, selection: InputSelection): Decision {
  const concept = ruleSet.marker.input;
  const marker = selection.usable.get(concept);
  if (!marker) {
    return {
      class: 'indeterminate',
      evidence: { inputs: [], comparisons: [] },
      because: `cannot classify: ${unavailability(selection, concept)}`,
      ...unavailable(selection, [concept]),
      possible: [ruleSet.positiveClass, 'unclassified'],
    };
  }
  const comparison = compare(ruleSet.marker, marker.value, { time: marker.time });
  return {
    class: comparison.result ? ruleSet.positiveClass : 'unclassified',
    evidence: { inputs: [marker], comparisons: [comparison] },
    because: comparison.text,
  };
}
