// Opening a TCP connection with a hard deadline, as data: the one place that
// turns socket errors into reasons for every check that needs a connection.
import net from 'node:net';
import { socketErrorReason } from './reasons.js';
import type { Dial, DialResult } from './types.js';

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** Connects to ip:port; resolves with the connected socket or a failure reason. */
export function connectTcp(ip: string, port: number, signal: AbortSignal): Promise<DialResult> {
  const start = process.hrtime.bigint();
  if (signal.aborted) return Promise.resolve({ ok: false, reason: 'timeout', message: 'deadline passed before connect', durationSeconds: 0 });
  return new Promise((resolve) => {
    const socket = net.connect({ host: ip, port, noDelay: true });
    const finish = (result: DialResult): void => {
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'timeout', message: `connect to ${ip} port ${port} timed out`, durationSeconds: seconds(start) });
    const onError = (err: Error): void =>
      finish({ ok: false, reason: socketErrorReason(err), message: `connect to ${ip} port ${port}: ${err.message}`, durationSeconds: seconds(start) });
    const onConnect = (): void => finish({ ok: true, socket, connectSeconds: seconds(start), remoteAddress: ip });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

/** A Dial that connects straight to one address. */
export function directDial(ip: string, port: number): Dial {
  return (signal) => connectTcp(ip, port, signal);
}
