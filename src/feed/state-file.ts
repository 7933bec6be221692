// The feed's state as a file: every target's answer sets with their sightings, and when
// it was saved. Each target is encoded on its own, so a save re-encodes only the targets
// that changed since the last one (address-feed.ts keeps the pieces). Reading is
// forgiving: a file that is not this format is refused as a whole, with the reason; an
// entry that makes no sense (a bad address, a time that is not a number) is left out.
import { isIP } from 'node:net';
import type { Family } from '../model/types.js';
import type { AnswerSet, Sighting, TargetAddresses } from './address-book.js';

export const STATE_FORMAT = 'egress-exporter-feed';
export const STATE_VERSION = 1;

/** [address, ttl seconds, first seen ms, last seen ms] */
type EncodedSighting = [string, number, number, number];

interface EncodedSet {
  family: Family;
  resolver: string;
  held: boolean;
  heldAtMs: number | null;
  sightings: EncodedSighting[];
}

interface EncodedTarget {
  key: string;
  host: string;
  port: number;
  sets: EncodedSet[];
}

/** One target's piece of the file. */
export function encodeTarget(target: TargetAddresses): string {
  const encoded: EncodedTarget = {
    key: target.key,
    host: target.host,
    port: target.port,
    sets: [...target.sets.values()].map((set) => ({
      family: set.family,
      resolver: set.resolver,
      held: set.held,
      heldAtMs: set.heldAtMs ?? null,
      sightings: [...set.sightings.values()].map((s): EncodedSighting => [s.address, s.ttlSeconds, s.firstSeenMs, s.lastSeenMs]),
    })),
  };
  return JSON.stringify(encoded);
}

/** The whole file from the targets' pieces. */
export function encodeState(savedAtMs: number, targets: readonly string[]): string {
  return `{"format":"${STATE_FORMAT}","version":${STATE_VERSION},"savedAtMs":${savedAtMs},"targets":[\n${targets.join(',\n')}\n]}\n`;
}

export interface RestoredTarget {
  key: string;
  host: string;
  port: number;
  sets: AnswerSet[];
}

export type DecodedState = { ok: true; savedAtMs: number; targets: RestoredTarget[]; skipped: number } | { ok: false; problem: string };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function decodeSighting(value: unknown, family: Family): Sighting | null {
  if (!Array.isArray(value) || value.length !== 4) return null;
  const [address, ttl, first, last] = value as unknown[];
  // Written in canonical form by encodeTarget; node's own check is quick on 60,000 of them.
  if (typeof address !== 'string' || address.includes('%') || isIP(address) !== (family === 'v4' ? 4 : 6)) return null;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0 || !isTime(first) || !isTime(last) || first > last) return null;
  return { address, ttlSeconds: ttl, firstSeenMs: first, lastSeenMs: last };
}

/** Reads a file that encodeState wrote; `skipped` counts the entries left out. */
export function decodeState(text: string): DecodedState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!isRecord(parsed) || parsed.format !== STATE_FORMAT) return { ok: false, problem: `not a feed state file (no "format": "${STATE_FORMAT}")` };
  if (parsed.version !== STATE_VERSION) return { ok: false, problem: `version ${JSON.stringify(parsed.version)}, expected ${STATE_VERSION}` };
  if (!isTime(parsed.savedAtMs) || !Array.isArray(parsed.targets)) return { ok: false, problem: 'no savedAtMs or targets' };
  let skipped = 0;
  const targets: RestoredTarget[] = [];
  for (const item of parsed.targets as unknown[]) {
    if (!isRecord(item) || typeof item.key !== 'string' || typeof item.host !== 'string' || typeof item.port !== 'number' || !Array.isArray(item.sets)) {
      skipped += 1;
      continue;
    }
    const sets: AnswerSet[] = [];
    for (const value of item.sets as unknown[]) {
      if (!isRecord(value) || (value.family !== 'v4' && value.family !== 'v6') || typeof value.resolver !== 'string' || !Array.isArray(value.sightings)) {
        skipped += 1;
        continue;
      }
      const family: Family = value.family;
      const set: AnswerSet = { family, resolver: value.resolver, held: value.held === true, sightings: new Map() };
      if (isTime(value.heldAtMs)) set.heldAtMs = value.heldAtMs;
      for (const encoded of value.sightings as unknown[]) {
        const sighting = decodeSighting(encoded, family);
        if (sighting === null) skipped += 1;
        else set.sightings.set(sighting.address, sighting);
      }
      sets.push(set);
    }
    targets.push({ key: item.key, host: item.host, port: item.port, sets });
  }
  return { ok: true, savedAtMs: parsed.savedAtMs, targets, skipped };
}
