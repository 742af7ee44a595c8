import { copyTrustedJson, formatJsonPath, JsonProblem, jsonSizeEstimate, validateJson } from '../core/json.js';
import type { JsonValue } from '../core/types.js';
import { WireError } from './errors.js';
import { fieldPath, type ParentPath } from './paths.js';
import { checkBudget, type WalkBudget } from './walk-budget.js';

/**
 * Users' commands (`google.protobuf.Value`) as the wire handles them: checked
 * and copied by the one JSON module (src/core/json.ts), with its problems
 * turned into WireErrors that name the field.
 * @internal
 */

/**
 * Checks that `value` is a JSON value within the limits and returns a fresh
 * deep copy (or `value` itself when `copy` is false). Throws WireError whose
 * field is `path` plus the position inside the value, e.g. `proposeRequest.command.a[3]`.
 */
export function copyJsonValue(value: unknown, path: string, budget: WalkBudget, copy: boolean): JsonValue {
  return copyJsonField(value, path, '', budget, copy);
}

/**
 * {@link copyJsonValue} of field `name` of the object at `parent` (`name` ''
 * for `parent` itself); the path is only built when the value is rejected.
 */
export function copyJsonField(value: unknown, parent: ParentPath, name: string, budget: WalkBudget, copy: boolean): JsonValue {
  try {
    return validateJson(value, budget, copy);
  } catch (thrown) {
    throw jsonWireError(thrown, name === '' ? String(parent) : fieldPath(parent, name));
  }
}

/**
 * The WireError for a problem found in the JSON value at `path`: a
 * {@link JsonProblem} with its position inside the value, a stack overflow
 * as LIMIT_EXCEEDED; anything else is returned as it is.
 */
export function jsonWireError(thrown: unknown, path: string): unknown {
  if (thrown instanceof JsonProblem) return new WireError(thrown.code, thrown.problem, path + formatJsonPath(thrown.segments));
  if (thrown instanceof RangeError) return new WireError('LIMIT_EXCEEDED', 'command is nested too deeply', path, { cause: thrown });
  return thrown;
}

/**
 * How the wire layer treats the commands of a message it turns into a payload:
 * `validate-copy` checks them and copies them, `validate-reference` checks
 * them and puts the message's own objects in the payload (for a message the
 * caller owns, freshly decoded), and `trusted-copy` copies them without
 * checking again, for a node's own messages, whose commands were checked when
 * they entered the node (see `copyTrustedJson` in src/core/json.ts), and
 * `checked-reference` puts the message's own objects in the payload without
 * checking them again, for a message the binary decoder just built and checked.
 */
export type CommandHandling = 'validate-copy' | 'validate-reference' | 'trusted-copy' | 'checked-reference';

/**
 * Command `name` of the object at `parent` as `handling` says, with its size
 * added to `budget`. Throws WireError LIMIT_EXCEEDED when the budget passes
 * maxPayloadBytes (and, unless trusted, any other problem of the value).
 */
export function handleCommand(value: unknown, parent: ParentPath, name: string, budget: WalkBudget, handling: CommandHandling): JsonValue {
  if (handling === 'validate-copy' || handling === 'validate-reference') {
    return copyJsonField(value, parent, name, budget, handling === 'validate-copy');
  }
  let copy: JsonValue;
  if (handling === 'trusted-copy') copy = copyTrustedJson(value as JsonValue, budget);
  else {
    copy = value as JsonValue;
    budget.size += jsonSizeEstimate(copy);
  }
  if (budget.size > budget.limits.maxPayloadBytes) checkBudget(budget, fieldPath(parent, name));
  return copy;
}
