// The built daemon as a child process (`node dist/cli.js FLAGS`), listening on
// a loopback port it picks itself; the port is read from its listening log line.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface RunningDaemon {
  child: ChildProcess;
  port: number;
  /** Everything it logged so far. */
  logs: () => string;
  /** SIGTERM, then wait for the exit. */
  stop: () => Promise<void>;
}

/** `prefix`: a command that runs the daemon in its place (`ip netns exec NS`): it must exec it, so the pid is the daemon's. */
export async function spawnDaemon(flags: string[], timeoutMs = 10_000, prefix: readonly string[] = []): Promise<RunningDaemon> {
  const [command = process.execPath, ...args] = [...prefix, process.execPath, 'dist/cli.js', '--web.listen-address=127.0.0.1:0', ...flags];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let logs = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within ${timeoutMs} ms:\n${logs}`)), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the daemon exited (${code}) before listening:\n${logs}`));
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        logs += chunk.toString();
        const m = /"address":"[^"]*:(\d+)"/.exec(logs);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    return { child, port, logs: () => logs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
