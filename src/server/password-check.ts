// bcrypt off the event loop. bcryptjs is pure JavaScript: one comparison at
// cost 10 is ~80 ms of CPU, and on the main thread every failed login would
// stall the probes' timestamps and the scrapes. Comparisons run one at a time
// on a worker thread, and at most a few wait: beyond that the caller is told
// at once (basic auth answers 429), so a flood of logins costs one core at most
// and never queues without end.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Comparisons running or waiting at once; more are refused. */
export const MAX_PASSWORD_CHECKS = 4;

// CommonJS, run with eval: the same code from src/ (tests) and dist/ (the daemon).
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});
`;

export class PasswordChecker {
  private worker: Worker | undefined;
  private nextId = 0;
  /** Each waiting check's answer: true or false, or undefined when the worker failed first. */
  private readonly pending = new Map<number, (ok: boolean | undefined) => void>();

  constructor(
    private readonly maxChecks = MAX_PASSWORD_CHECKS,
    /** Told when the worker fails (a bug); every pending check then gets undefined. */
    private readonly onWorkerError: (error: unknown) => void = () => {},
  ) {}

  /** Checks running or waiting now. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Whether `password` matches the bcrypt `hash` (undefined if the worker
   * failed before answering); undefined instead of a promise, at once, when
   * maxChecks comparisons are already running or waiting.
   */
  check(password: string, hash: string): Promise<boolean | undefined> | undefined {
    if (this.pending.size >= this.maxChecks) return undefined;
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, password, hash });
    });
  }

  /** Stops the worker; checks still pending get undefined. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failPending();
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_CODE, { eval: true, workerData: { bcryptjs: createRequire(import.meta.url).resolve('bcryptjs') } });
    // An idle worker must not keep the process alive.
    worker.unref();
    worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      const resolve = this.pending.get(id);
      this.pending.delete(id);
      resolve?.(ok === true);
    });
    const gone = (error?: unknown): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failPending();
      if (error !== undefined) this.onWorkerError(error);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(code === 0 ? undefined : new Error(`the bcrypt worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private failPending(): void {
    for (const resolve of this.pending.values()) resolve(undefined);
    this.pending.clear();
  }
}
