// The registry check's part of a /probe?debug=true transcript: the outcome, then
// every connection and request of the pull path, step by step, with the redirect
// target and the headers that matter. The result is already redacted (see
// src/probes/registry.ts): this only lays it out.
import { authority } from '../probes/net/proxy.js';
import type { RegistryResult, RegistryTranscriptEntry } from '../probes/registry/registry.js';

const msText = (seconds: number | undefined): string => (seconds === undefined ? '-' : `${(seconds * 1000).toFixed(1)} ms`);
const date = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();

function entryLines(entry: RegistryTranscriptEntry): string[] {
  if (entry.kind === 'connect') {
    const where = authority(entry.host, entry.port);
    if (!entry.ok) return [`    connect ${where}: FAILED - ${entry.error ?? 'unknown'}`];
    const phases = [
      entry.lookupSeconds === undefined ? undefined : `dns ${msText(entry.lookupSeconds)}`,
      `connect ${msText(entry.connectSeconds)}`,
      entry.proxyConnectSeconds === undefined ? undefined : `CONNECT ${msText(entry.proxyConnectSeconds)}`,
      `tls ${msText(entry.tlsSeconds)} ${entry.tlsVersion ?? ''} ALPN ${entry.alpn ?? 'none'}`.trimEnd(),
    ].filter((p) => p !== undefined);
    return [`    connect ${where}${entry.remoteAddress === undefined ? '' : ` (${entry.remoteAddress})`}: ${phases.join(', ')}`];
  }
  const lines = [`    ${entry.method} ${entry.url} -> ${entry.status ?? `no answer (${entry.error ?? 'unknown'})`} in ${msText(entry.seconds)}`];
  for (const [name, value] of Object.entries(entry.requestHeaders)) lines.push(`      > ${name}: ${value}`);
  for (const [name, value] of Object.entries(entry.responseHeaders)) lines.push(`      < ${name}: ${value}`);
  return lines;
}

/** Plain-text lines for one registry over one path. */
export function registryTranscriptLines(result: RegistryResult, path: string): string[] {
  const outcome = result.ok ? `ok in ${msText(result.durationSeconds)}` : `FAILED at ${result.failedStep ?? '?'} (${result.reason ?? 'unknown'}) in ${msText(result.durationSeconds)}`;
  const lines = [`  registry ${result.registry} on ${path}: ${outcome}${result.message === undefined ? '' : ` - ${result.message}`}`];
  const steps = Object.entries(result.steps).map(([step, r]) => `${step} ${r.ok ? '' : 'FAILED '}${msText(r.seconds)}${r.status === undefined ? '' : ` (${r.status})`}`);
  if (steps.length > 0) lines.push(`    steps: ${steps.join(', ')}`);
  if (result.blobServedBy !== undefined) lines.push(`    blob served ${result.blobServedBy === 'redirect' ? `by ${result.blobHost ?? '?'} (redirect)` : 'by the registry itself'}`);
  if (result.tokenExpiresAtSeconds !== undefined) lines.push(`    token expires ${date(result.tokenExpiresAtSeconds)}`);
  if (result.credential !== undefined) lines.push(`    credentials of ${result.credential.username} (${result.credential.source}): ${result.credential.note}`);
  let step: string | undefined;
  for (const entry of result.transcript) {
    if (entry.step !== step) {
      step = entry.step;
      lines.push(`   ${step}:`);
    }
    lines.push(...entryLines(entry));
  }
  return lines;
}
