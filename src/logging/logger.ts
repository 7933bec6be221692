// pino, writing JSON (default), logfmt, or pretty lines for humans.
import { Writable } from 'node:stream';
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'logfmt', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** Turns one pino JSON line into `ts=... level=... msg=... key=value`. */
export function toLogfmt(line: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  const { time, level, msg, ...rest } = record;
  const head = [`ts=${new Date(Number(time)).toISOString()}`, `level=${LEVEL_NAMES[Number(level)] ?? String(level)}`];
  if (msg !== undefined) head.push(`msg=${logfmtValue(msg)}`);
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) head.push(`${key}=${logfmtValue(value)}`);
  return head.join(' ');
}

function logfmtStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) out.write(`${toLogfmt(line)}\n`);
      done();
    },
  });
}

export function createLogger(level: LogLevel, format: LogFormat, out: NodeJS.WritableStream = process.stderr): Logger {
  const options: pino.LoggerOptions = { level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime };
  switch (format) {
    case 'json':
      // `"level":"warn"` rather than pino's 40: what log pipelines and people expect.
      return pino({ ...options, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, out as pino.DestinationStream);
    case 'logfmt':
      return pino(options, logfmtStream(out));
    case 'pretty':
      return pino(options, pretty({ destination: out as unknown as number, sync: true, colorize: false, translateTime: 'SYS:standard' }));
  }
}
