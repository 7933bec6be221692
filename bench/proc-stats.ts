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

export interface MachineTicks {
  busy: number;
  total: number;
  cpus: number;
}

/** Clock ticks the whole machine spent busy and in all (the `cpu` line of /proc/stat), and its CPUs. */
export function machineTicks(): MachineTicks {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const ticks = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th numbers of the cpu line.
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total, cpus: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/** Cores' worth of CPU the whole machine (every process, ours and others') used between two readings. */
export function machineBusyCores(from: MachineTicks, to: MachineTicks): number {
  const total = to.total - from.total;
  return total > 0 ? ((to.busy - from.busy) / total) * to.cpus : NaN;
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

/** VmRSS read every `everyMs`: its largest value before `mark()` and after it. */
export class RssSampler {
  private before = 0;
  private after = 0;
  private marked = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, everyMs = 1000) {
    this.timer = setInterval(() => this.read(), everyMs);
    this.timer.unref();
    this.read();
  }

  /** From now on, readings count as in the window. */
  mark(): void {
    this.read();
    this.marked = true;
    this.read();
  }

  stop(): { before: number; inWindow: number } {
    this.read();
    clearInterval(this.timer);
    return { before: this.before, inWindow: this.after };
  }

  private read(): void {
    let rss: number;
    try {
      rss = memory(this.pid).rssBytes;
    } catch {
      return; // the process is gone
    }
    if (this.marked) this.after = Math.max(this.after, rss);
    else this.before = Math.max(this.before, rss);
  }
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
