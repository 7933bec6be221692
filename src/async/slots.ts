// Stable slots in a period: a target's rounds in the interval, its TLS requirement runs
// in tls.requirements_interval. A slot comes from a hash, so the same target keeps it
// across restarts and a thousand targets spread evenly instead of coming due together.
import { createHash } from 'node:crypto';

/** A stable fraction in [0, 1) per target: the same target keeps its slot across restarts. */
export function hostPhase(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** The first start of the target's slot after `afterMs`: slots are phase * interval past each multiple of the interval. */
export function nextSlotMs(afterMs: number, intervalMs: number, phase: number): number {
  const offset = phase * intervalMs;
  return (Math.floor((afterMs - offset) / intervalMs) + 1) * intervalMs + offset;
}

/** The slot after a run that started at `startedMs`: at least half an interval later, so a first run early in its period is not followed at once. */
export function slotAfterMs(startedMs: number, intervalMs: number, phase: number): number {
  return nextSlotMs(startedMs + intervalMs / 2, intervalMs, phase);
}
