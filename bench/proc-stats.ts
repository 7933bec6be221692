// What the kernel says about a process, from /proc: CPU time (all threads, user and
// system) and memory. Read from outside, so it holds for any build of any program.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK; 100 on Linux). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticksPerSecond;
}

/** utime + stime of the process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name, in parentheses, may hold spaces: count fields after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) of proc(5); fields[0] is field 3.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

export interface Memory {
  /** VmHWM: the peak resident set size since the process started. */
  peakRssBytes: number;
  /** VmRSS: the resident set size now. */
  rssBytes: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peakRssBytes: kib('VmHWM'), rssBytes: kib('VmRSS') };
}

/** The machine, for the record: CPU model, cores, kernel, load. */
export function machineDescription(): { cpuModel: string; cores: number; load: string; memTotal: string } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const memTotal = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return { cpuModel, cores, load, memTotal: memTotal === undefined ? 'unknown' : `${(Number(memTotal) / 2 ** 20).toFixed(1)} GiB` };
}
