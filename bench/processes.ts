// Every process the bench starts, in one place, so that all of them are stopped at
// the end: on success, on an error, on Ctrl-C (SIGINT) or SIGTERM, and (SIGKILL, as a
// last resort) when the bench itself exits.
import { fork, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();

function track(name: string, child: ChildProcess): Child {
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code ?? '?'}`));
  });
  const handle: Child = {
    name,
    pid: child.pid,
    process: child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** The environment without proxy variables: every program the bench runs takes the direct path. */
export function withoutProxyEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']) delete env[name];
  return env;
}

/** Runs `command` with stdout and stderr appended to `logFile`; `ipc`: with a fork-style IPC channel (a node program). */
export function spawnLogged(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv, ipc = false): Child {
  const fd = openSync(logFile, 'a');
  try {
    return track(name, spawn(command, args, { stdio: ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd], env }));
  } finally {
    closeSync(fd);
  }
}

/** Forks one of the bench's own TypeScript modules, with an IPC channel. */
export function forkModule(name: string, modulePath: string, args: string[], logFile: string): Child {
  const fd = openSync(logFile, 'a');
  try {
    return track(name, fork(modulePath, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', fd, fd, 'ipc'] }));
  } finally {
    closeSync(fd);
  }
}

/** Stops every process still running, the most recently started first. */
export async function stopAll(): Promise<void> {
  for (const child of [...running].reverse()) await child.stop();
}

let installed = false;

/** Makes Ctrl-C, SIGTERM and any exit of the bench stop what it started. */
export function stopAllOnExit(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench: ${signal}: stopping everything it started\n`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Synchronous last resort: nothing outlives the bench.
  process.on('exit', () => {
    for (const child of running) child.process.kill('SIGKILL');
  });
}
