import { WireError } from './errors.js';
import type { WireLimits } from './limits.js';

/**
 * Running state of one payload walk: the limits in force and the estimated
 * serialized size so far (string lengths plus a few bytes per field), so
 * `maxPayloadBytes` is enforced without stringifying the payload.
 * @internal
 */
export interface WalkBudget {
  readonly limits: Readonly<WireLimits>;
  /** Estimated bytes seen so far. */
  size: number;
}

/** Bytes charged for a number, boolean or null and its key. @internal */
export const SCALAR_FIELD_BYTES = 8;

/** Creates a fresh budget for one walk. @internal */
export function newBudget(limits: Readonly<WireLimits>): WalkBudget {
  return { limits, size: 0 };
}

/** Throws LIMIT_EXCEEDED once the estimated size passes `maxPayloadBytes`. @internal */
export function checkBudget(budget: WalkBudget, path: string): void {
  if (budget.size > budget.limits.maxPayloadBytes) {
    throw new WireError(
      'LIMIT_EXCEEDED',
      `payload exceeds maxPayloadBytes (${budget.limits.maxPayloadBytes} bytes)`,
      path === '' ? undefined : path,
    );
  }
}
