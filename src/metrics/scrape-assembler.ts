// The /metrics body is put together on a worker thread, never on the thread that
// probes and timestamps: interleaving a thousand targets' series family by family
// (about 40,000 pieces, 5 MB) and gzipping them takes tens of milliseconds, which on
// the probing thread is a stall added to every measurement in flight.
//
// Each target's families travel as one string with the byte offset of each family (a few
// KB, sent when its round arrives). The worker holds the only copy, written into a byte
// buffer of the target's own that the next round's text overwrites: no buffer a round, so
// none waiting for the worker's garbage collector either. A worker that died (a bug) is
// started again and given every target anew by the view (`replay`). A gzipped scrape is
// compressed a chunk at a time as it is read, so its whole text never exists at once; a
// plain one is one buffer, handed back without a copy.
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type * as Zlib from 'node:zlib';
import type { FamilyId } from './families.js';
import type { RenderedFamilies } from './target-series.js';

type Request =
  /** `ends`: family i is bytes [ends[i-1] (0 for the first), ends[i]) of `text` in UTF-8. */
  | { kind: 'set'; key: string; text: string; ends: number[] }
  | { kind: 'delete'; key: string }
  /** `declared`: indexes of families headed even with no series; `tail` follows the families. */
  | { kind: 'scrape'; id: number; declared: readonly number[]; tail: string; gzip: boolean };

interface WorkerSetup {
  /** Each family's HELP and TYPE lines, in exposition order. */
  headers: readonly string[];
}

/**
 * The worker's whole program. It runs from its source text (`eval`), so it uses only
 * its parameters and globals: no import, nothing from this module's scope.
 */
function assemblerMain(port: MessagePort, setup: WorkerSetup, zlib: typeof Zlib): void {
  const headers = setup.headers.map((text) => Buffer.from(text));
  /** A target's text, and where each family starts in it: family i is bytes[offsets[i], offsets[i+1]). */
  interface Held {
    offsets: Uint32Array;
    bytes: Buffer;
  }
  const targets = new Map<string, Held>();
  // What deflate is given at a time: the text of a gzipped scrape never exists whole.
  const CHUNK = 256 * 1024;
  const chunk = Buffer.allocUnsafeSlow(CHUNK);

  const hold = (key: string, text: string, ends: readonly number[]): void => {
    const size = ends[ends.length - 1] ?? 0;
    let held = targets.get(key);
    if (held === undefined || held.bytes.length < size) {
      // Room for the next rounds' numbers to take a few more digits before a new buffer.
      const bytes = Buffer.allocUnsafeSlow(size + 64 + (size >> 5));
      held = { offsets: held?.offsets ?? new Uint32Array(headers.length + 1), bytes };
      targets.set(key, held);
    }
    held.offsets.set(ends, 1);
    held.bytes.write(text, 0, size);
  };

  /**
   * The exposition of the targets held, read in order into whatever buffer `fill` is given:
   * family by family (its header, then each target's piece), then the tail. Synchronous
   * from the first byte to the last: no set lands in the middle of a scrape.
   */
  function reader(declared: ReadonlySet<number>, tail: Buffer): { size: number; fill: (out: Buffer) => number } {
    const packs = [...targets.values()];
    const headed = headers.map((_, i) => declared.has(i) || packs.some(({ offsets }) => (offsets[i + 1] as number) > (offsets[i] as number)));
    let size = tail.length;
    headers.forEach((head, i) => {
      if (headed[i] === true) size += head.length;
    });
    for (const { offsets } of packs) size += offsets[headers.length] as number;
    // The segment being copied (bytes [pos, end) of buf), and where the next one comes from:
    // family `family`, its header when `target` is -1, else packs[target].
    let buf = tail;
    let pos = 0;
    let end = 0;
    let family = 0;
    let target = -1;
    const advance = (): boolean => {
      for (;;) {
        if (family > headers.length) return false;
        if (family === headers.length) {
          family += 1;
          buf = tail;
          pos = 0;
          end = tail.length;
          if (end > 0) return true;
          continue;
        }
        if (target === -1) {
          if (headed[family] !== true) {
            family += 1;
            continue;
          }
          target = 0;
          buf = headers[family] as Buffer;
          pos = 0;
          end = buf.length;
          return true;
        }
        while (target < packs.length) {
          const { offsets, bytes } = packs[target] as Held;
          target += 1;
          const start = offsets[family] as number;
          const stop = offsets[family + 1] as number;
          if (stop > start) {
            buf = bytes;
            pos = start;
            end = stop;
            return true;
          }
        }
        family += 1;
        target = -1;
      }
    };
    const fill = (out: Buffer): number => {
      let at = 0;
      while (at < out.length) {
        if (pos === end && !advance()) break;
        const n = Math.min(end - pos, out.length - at);
        buf.copy(out, at, pos, pos + n);
        pos += n;
        at += n;
      }
      return at;
    };
    return { size, fill };
  }

  /**
   * One gzip member (RFC 1952) whose deflate data is each chunk deflated on its own and
   * ended on a byte boundary (a sync flush), the last one final: a valid deflate stream,
   * since no chunk refers back past its own start. The CRC runs over the chunks as read.
   */
  function gzipped(size: number, fill: (out: Buffer) => number): Buffer {
    // Level 1: a 1,000-host scrape gzips in a quarter of the time of the default level 6, for
    // about a sixth more bytes on the wire (still a twentieth of the plain text).
    const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])];
    let crc = 0;
    let read = 0;
    for (;;) {
      const n = fill(chunk);
      read += n;
      const piece = chunk.subarray(0, n);
      crc = zlib.crc32(piece, crc);
      if (read >= size) {
        parts.push(zlib.deflateRawSync(piece, { level: 1 }));
        break;
      }
      parts.push(zlib.deflateRawSync(piece, { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    }
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(read >>> 0, 4);
    parts.push(trailer);
    // Memory of its own, not a slice of Buffer's shared pool: it is handed over whole.
    const body = Buffer.allocUnsafeSlow(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) at += part.copy(body, at);
    return body;
  }

  port.on('message', (request: Request) => {
    switch (request.kind) {
      case 'set':
        hold(request.key, request.text, request.ends);
        return;
      case 'delete':
        targets.delete(request.key);
        return;
      case 'scrape': {
        const { size, fill } = reader(new Set(request.declared), Buffer.from(request.tail));
        let body: Buffer;
        if (request.gzip) {
          body = gzipped(size, fill);
        } else {
          body = Buffer.allocUnsafeSlow(size);
          fill(body);
        }
        port.postMessage({ id: request.id, body: body.buffer }, [body.buffer as ArrayBuffer]);
        return;
      }
    }
  });
}

// __name: what esbuild (tsx, in scratch runs) wraps named functions in; tsc adds none.
const WORKER_SOURCE = `'use strict';
const __name = (f) => f;
const { parentPort, workerData } = require('node:worker_threads');
(${assemblerMain.toString()})(parentPort, workerData, require('node:zlib'));
`;

/** Where a new worker gets every target's families from: the view renders them again. */
export type Replay = () => Iterable<readonly [key: string, rendered: RenderedFamilies]>;

export class ScrapeAssembler {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (body: Buffer) => void; reject: (error: Error) => void }>();
  private readonly index: ReadonlyMap<FamilyId, number>;

  /**
   * `families`: every target family in exposition order, with its HELP and TYPE lines.
   * `replay`: every target's families now, for a worker started after the first (one that
   * died, or after a close): this side keeps no copy.
   */
  constructor(
    private readonly families: ReadonlyArray<readonly [FamilyId, string]>,
    private readonly replay: Replay = () => [],
  ) {
    this.index = new Map(families.map(([id], i) => [id, i]));
  }

  set(key: string, rendered: RenderedFamilies): void {
    this.worker ??= this.start();
    this.send(this.worker, key, rendered);
  }

  delete(key: string): void {
    this.worker?.postMessage({ kind: 'delete', key } satisfies Request);
  }

  /** The targets' families in order (those in `declared` headed even when empty), then `tail`. */
  body(declared: readonly FamilyId[], tail: string, gzip: boolean): Promise<Buffer> {
    const id = (this.nextId += 1);
    this.worker ??= this.start();
    const worker = this.worker;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ kind: 'scrape', id, declared: declared.map((family) => this.index.get(family) ?? -1), tail, gzip } satisfies Request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the scrape assembler was closed'));
    await worker?.terminate();
  }

  /** Sends a target's families: one string, and where each family ends in it (UTF-8 bytes). */
  private send(worker: Worker, key: string, rendered: RenderedFamilies): void {
    let text = '';
    let at = 0;
    const ends = this.families.map(([id]) => {
      const piece = rendered.get(id) ?? '';
      text += piece;
      at += Buffer.byteLength(piece);
      return at;
    });
    worker.postMessage({ kind: 'set', key, text, ends } satisfies Request);
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { headers: this.families.map(([, head]) => head) } satisfies WorkerSetup,
      // Its heap holds a scrape's bookkeeping and the strings of rounds in transit; the series are in byte buffers.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    // An idle assembler must not keep the process alive.
    worker.unref();
    worker.on('message', ({ id, body }: { id: number; body: ArrayBuffer }) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      waiting?.resolve(Buffer.from(body));
    });
    const gone = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(error);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the scrape assembler exited with code ${code}`)));
    for (const [key, rendered] of this.replay()) this.send(worker, key, rendered);
    return worker;
  }

  private fail(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
