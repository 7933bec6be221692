// The bench's own child processes (DNS server, origin, pinger) talk to the bench over
// the fork IPC channel: a child says it is ready once, then answers requests by type.
import type { Child } from './processes.js';

interface Request {
  id: number;
  type: string;
  payload?: unknown;
}
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}
interface Ready {
  ready: unknown;
}

export interface ChildLink<TReady> {
  ready: TReady;
  ask<T>(type: string, payload?: unknown): Promise<T>;
}

/** Waits for the child's ready message (or its exit), then links requests to replies. */
export async function linkChild<TReady>(child: Child, timeoutMs = 60_000): Promise<ChildLink<TReady>> {
  const proc = child.process;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const ready = await new Promise<TReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} was not ready within ${timeoutMs} ms (see its log)`)), timeoutMs);
    void child.exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} ended (${how}) before it was ready (see its log)`));
    });
    proc.on('message', (message: Ready | Reply) => {
      if ('ready' in message) {
        clearTimeout(timer);
        resolve(message.ready as TReady);
        return;
      }
      const waiter = pending.get(message.id);
      if (waiter === undefined) return;
      pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(`${child.name}: ${message.error}`));
      else waiter.resolve(message.result);
    });
  });
  void child.exited.then((how) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${child.name} ended (${how})`));
    pending.clear();
  });
  return {
    ready,
    ask<T>(type: string, payload?: unknown): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        proc.send({ id, type, payload } satisfies Request);
      });
    },
  };
}

type Handler = (payload: unknown) => unknown;

/** In a child: says it is ready, answers requests, and ends when the bench goes away. */
export function serveBench(ready: unknown, handlers: Record<string, Handler>, close: () => Promise<void>): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('this module runs as a child of bench/run.ts (no IPC channel)');
  process.on('message', (message: Request) => {
    const handler = handlers[message.type];
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown request ${message.type}`);
        return handler(message.payload);
      })
      .then(
        (result: unknown) => send({ id: message.id, result } satisfies Reply),
        (error: unknown) => send({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies Reply),
      );
  });
  const end = (): void => {
    void close().finally(() => process.exit(0));
  };
  process.once('disconnect', end);
  process.once('SIGTERM', end);
  process.once('SIGINT', end);
  send({ ready } satisfies Ready);
}
