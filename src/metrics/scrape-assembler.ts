// The /metrics body is put together on a worker thread, never on the thread that
// probes and timestamps: interleaving a thousand targets' series family by family
// (about 40,000 pieces, 5 MB) and gzipping them takes tens of milliseconds, which on
// the probing thread is a stall added to every measurement in flight.
//
// Each target's families travel as one packed byte array with an offset per family
// (a few KB, sent when its round arrives), so the worker holds its copy off the heap
// and a scrape is byte copies into one buffer, handed back without a copy.
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { gzipSync as GzipSync } from 'node:zlib';
import type { FamilyId } from './families.js';
import type { RenderedFamilies } from './target-series.js';

/** One target's families, in the assembler's family order: family i is bytes[offsets[i], offsets[i+1]). */
interface Packed {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

type Request =
  | { kind: 'set'; key: string; packed: Packed }
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
function assemblerMain(port: MessagePort, setup: WorkerSetup, gzipSync: typeof GzipSync): void {
  const headers = setup.headers.map((text) => Buffer.from(text));
  const targets = new Map<string, Packed>();
  let scratch = Buffer.alloc(0);
  port.on('message', (request: Request) => {
    switch (request.kind) {
      case 'set':
        targets.set(request.key, request.packed);
        return;
      case 'delete':
        targets.delete(request.key);
        return;
      case 'scrape': {
        const declared = new Set(request.declared);
        const packs = [...targets.values()];
        const headed = headers.map((_, i) => declared.has(i) || packs.some(({ offsets }) => (offsets[i + 1] as number) > (offsets[i] as number)));
        const tail = Buffer.from(request.tail);
        let size = tail.length;
        headers.forEach((head, i) => {
          if (headed[i] === true) size += head.length;
        });
        for (const { bytes } of packs) size += bytes.length;
        // Gzipped, the text is only an input: one buffer, grown when needed, serves every scrape
        // (a fresh 5 MB each time would wait for this small heap's GC to be freed).
        if (request.gzip && scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.ceil(size * 1.25));
        const text = request.gzip ? scratch.subarray(0, size) : Buffer.allocUnsafeSlow(size);
        let at = 0;
        headers.forEach((head, i) => {
          if (headed[i] !== true) return;
          at += head.copy(text, at);
          for (const { bytes, offsets } of packs) {
            const start = offsets[i] as number;
            const end = offsets[i + 1] as number;
            if (end > start) {
              text.set(bytes.subarray(start, end), at);
              at += end - start;
            }
          }
        });
        at += tail.copy(text, at);
        // Level 1: a 1,000-host scrape gzips in a quarter of the time of the default level 6, for
        // about a sixth more bytes on the wire (still a twentieth of the plain text).
        const body = request.gzip ? gzipSync(text, { level: 1 }) : text;
        // gzipSync's answer may be a view of a larger or shared buffer: send exactly its
        // bytes, in memory of their own (Buffer.from would put a small copy in the pool).
        let own = body;
        if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength) {
          own = Buffer.allocUnsafeSlow(body.length);
          body.copy(own);
        }
        port.postMessage({ id: request.id, body: own.buffer }, [own.buffer]);
        return;
      }
    }
  });
}

const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
(${assemblerMain.toString()})(parentPort, workerData, require('node:zlib').gzipSync);
`;

export class ScrapeAssembler {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (body: Buffer) => void; reject: (error: Error) => void }>();
  /** What the worker holds, so a worker that died (a bug) can be started again with it. */
  private readonly targets = new Map<string, Packed>();
  private readonly index: ReadonlyMap<FamilyId, number>;

  /** `families`: every target family in exposition order, with its HELP and TYPE lines. */
  constructor(private readonly families: ReadonlyArray<readonly [FamilyId, string]>) {
    this.index = new Map(families.map(([id], i) => [id, i]));
  }

  set(key: string, rendered: RenderedFamilies): void {
    const packed = this.pack(rendered);
    this.targets.set(key, packed);
    this.post({ kind: 'set', key, packed });
  }

  delete(key: string): void {
    this.targets.delete(key);
    this.post({ kind: 'delete', key });
  }

  /** The targets' families in order (those in `declared` headed even when empty), then `tail`. */
  body(declared: readonly FamilyId[], tail: string, gzip: boolean): Promise<Buffer> {
    const id = (this.nextId += 1);
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ kind: 'scrape', id, declared: declared.map((family) => this.index.get(family) ?? -1), tail, gzip });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the scrape assembler was closed'));
    await worker?.terminate();
  }

  private pack(rendered: RenderedFamilies): Packed {
    const offsets = new Uint32Array(this.families.length + 1);
    let text = '';
    this.families.forEach(([id], i) => {
      const piece = rendered.get(id) ?? '';
      text += piece;
      offsets[i + 1] = (offsets[i] as number) + Buffer.byteLength(piece);
    });
    // Its own memory, not a slice of Buffer's shared pool (which a small string would get).
    const bytes = Buffer.allocUnsafeSlow(offsets[this.families.length] as number);
    bytes.write(text);
    return { bytes, offsets };
  }

  private post(request: Request): void {
    if (this.worker === undefined) {
      // A set or delete needs no worker yet: the start sends what `targets` holds.
      if (request.kind !== 'scrape') return;
      this.worker = this.start();
    }
    this.worker.postMessage(request);
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
    for (const [key, packed] of this.targets) worker.postMessage({ kind: 'set', key, packed } satisfies Request);
    return worker;
  }

  private fail(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
