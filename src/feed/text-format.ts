// The list as PAN-OS External Dynamic Lists and FortiGate external-resource connectors
// read it: one address a line, nothing else. With comments asked for, a header line and,
// above each address, the hosts it was answered for, each on a `#` line of its own.
import type { Listing } from './selection.js';

export interface CommentOptions {
  /** What the list is: its name, or the query that chose it. */
  title: string;
  generatedAtMs: number;
}

export function renderText(listing: Listing, comments: CommentOptions | null): string {
  if (comments === null) return listing.addresses.map((address) => `${address}\n`).join('');
  const hosts = hostsByAddress(listing);
  let out = `# egress-exporter address feed: ${comments.title}: ${countText(listing.addresses.length)} at ${new Date(comments.generatedAtMs).toISOString()}\n`;
  for (const address of listing.addresses) out += `# ${(hosts.get(address) ?? []).join(', ')}\n${address}\n`;
  return out;
}

/** The hosts each address was answered for, in listing order. */
export function hostsByAddress(listing: Listing): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const s of listing.sightings) {
    const names = hosts.get(s.address) ?? [];
    if (!names.includes(s.host)) names.push(s.host);
    hosts.set(s.address, names);
  }
  return hosts;
}

export const countText = (n: number): string => `${n} address${n === 1 ? '' : 'es'}`;
