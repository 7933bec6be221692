// The /metrics body is put together on a worker thread, never on the thread that
// probes and timestamps: interleaving a thousand targets' series family by family
// (about 40,000 pieces, 5 MB) and gzipping them takes tens of milliseconds, which on
// the probing thread is a stall added to every measurement in flight.
//
// Each target's families travel as one packed byte array (an offset per family, then the
// text: a few KB, sent when its round arrives) and are moved, not copied: the worker holds
// the only copy, off its heap. A worker that died (a bug) is started again and given every
// target anew by the view (`replay`). A gzipped scrape is read into zlib a chunk at a time,
// so the whole text never exists at once; a plain one is one buffer, handed back without
// a copy.
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type * as Zlib from 'node:zlib';
import type { FamilyId } from './families.js';
import type { RenderedFamilies } from './target-series.js';

type Request =
  /** `packed`: offsets (one Uint32 per family and one more), then the text; family i is text[offsets[i], offsets[i+1]). */
  | { kind: 'set'; key: string; packed: ArrayBuffer }
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
  const targets = new Map<string, { offsets: Uint32Array; bytes: Buffer }>();
  // What zlib is given at a time: the text of a gzipped scrape never exists whole.
  const CHUNK = 256 * 1024;

  /**
   * The exposition of the targets held now, read in order into whatever buffer `fill` is
   * given: family by family (its header, then each target's piece), then the tail. The
   * targets are taken as they are at the start; a later set replaces a pack, never changes one.
   */
  function reader(declared: ReadonlySet<number>, tail: Buffer): { size: number; fill: (out: Buffer) => number } {
    const packs = [...targets.values()];
    const headed = headers.map((_, i) => declared.has(i) || packs.some(({ offsets }) => (offsets[i + 1] as number) > (offsets[i] as number)));
    let size = tail.length;
    headers.forEach((head, i) => {
      if (headed[i] === true) size += head.length;
    });
    for (const { bytes } of packs) size += bytes.length;
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
          const { offsets, bytes } = packs[target] as { offsets: Uint32Array; bytes: Buffer };
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

  /** The text gzipped a chunk at a time; one chunk is reused once zlib has taken it in. */
  async function gzipped(fill: (out: Buffer) => number): Promise<Buffer> {
    // Level 1: a 1,000-host scrape gzips in a quarter of the time of the default level 6, for
    // about a sixth more bytes on the wire (still a twentieth of the plain text).
    const gzip = zlib.createGzip({ level: 1, chunkSize: CHUNK });
    const parts: Buffer[] = [];
    gzip.on('data', (part: Buffer) => parts.push(part));
    const ended = new Promise<void>((resolve, reject) => {
      gzip.once('end', resolve);
      gzip.once('error', reject);
    });
    const chunk = Buffer.allocUnsafeSlow(CHUNK);
    for (;;) {
      const n = fill(chunk);
      if (n === 0) break;
      // The write's callback comes once zlib has consumed the chunk: it may be filled again.
      await new Promise<void>((resolve, reject) => gzip.write(chunk.subarray(0, n), (error) => (error ? reject(error) : resolve())));
      if (n < CHUNK) break;
    }
    gzip.end();
    await ended;
    return Buffer.concat(parts);
  }

  const answer = async (request: Extract<Request, { kind: 'scrape' }>): Promise<void> => {
    const { size, fill } = reader(new Set(request.declared), Buffer.from(request.tail));
    let body: Buffer;
    if (request.gzip) {
      body = await gzipped(fill);
    } else {
      body = Buffer.allocUnsafeSlow(size);
      fill(body);
    }
    // The answer may be a view of a larger or shared buffer: send exactly its bytes, in
    // memory of their own (Buffer.from would put a small copy in the pool).
    let own = body;
    if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength) {
      own = Buffer.allocUnsafeSlow(body.length);
      body.copy(own);
    }
    port.postMessage({ id: request.id, body: own.buffer }, [own.buffer as ArrayBuffer]);
  };

  port.on('message', (request: Request) => {
    switch (request.kind) {
      case 'set': {
        const count = headers.length + 1;
        targets.set(request.key, { offsets: new Uint32Array(request.packed, 0, count), bytes: Buffer.from(request.packed, 4 * count) });
        return;
      }
      case 'delete':
        targets.delete(request.key);
        return;
      case 'scrape':
        answer(request).catch((error: unknown) => port.postMessage({ id: request.id, error: String(error) }));
        return;
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

  /** Packs a target's families and moves them to the worker (transferred: no copy stays here). */
  private send(worker: Worker, key: string, rendered: RenderedFamilies): void {
    const count = this.families.length + 1;
    const head = 4 * count;
    let text = '';
    const ends = new Uint32Array(count);
    this.families.forEach(([id], i) => {
      const piece = rendered.get(id) ?? '';
      text += piece;
      ends[i + 1] = (ends[i] as number) + Buffer.byteLength(piece);
    });
    // Its own memory, not a slice of Buffer's shared pool (which a small string would get).
    const packed = Buffer.allocUnsafeSlow(head + (ends[count - 1] as number));
    new Uint32Array(packed.buffer, 0, count).set(ends);
    packed.write(text, head);
    worker.postMessage({ kind: 'set', key, packed: packed.buffer } satisfies Request, [packed.buffer]);
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { headers: this.families.map(([, head]) => head) } satisfies WorkerSetup,
      // Its heap holds only a scrape's bookkeeping; the series are in byte arrays.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    // An idle assembler must not keep the process alive.
    worker.unref();
    worker.on('message', (answer: { id: number; body: ArrayBuffer } | { id: number; error: string }) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if ('error' in answer) waiting?.reject(new Error(`the scrape assembler failed: ${answer.error}`));
      else waiting?.resolve(Buffer.from(answer.body));
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
