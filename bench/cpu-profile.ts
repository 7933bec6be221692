// Reads a V8 CPU profile (node --cpu-prof) and ranks functions by self time.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `functionName (file:line)` */
  name: string;
  ms: number;
  /** Share of the profile's busy time (idle excluded). */
  share: number;
}

export async function topSelfTime(file: string, count: number, root: string): Promise<{ busyMs: number; top: SelfTime[] }> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byName = new Map<string, number>();
  // timeDeltas[i] is the time before samples[i]; it is charged to the sampled node.
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id);
    if (frame === undefined) return;
    const where = frame.url === '' ? '' : ` (${frame.url.startsWith('file://') ? relative(root, new URL(frame.url).pathname) : frame.url}:${frame.lineNumber + 1})`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    byName.set(name, (byName.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  byName.delete('(idle)');
  const busyMs = [...byName.values()].reduce((a, b) => a + b, 0);
  const top = [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }));
  return { busyMs, top };
}
