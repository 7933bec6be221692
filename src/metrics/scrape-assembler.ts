// The /metrics body is put together on a worker thread, never on the thread that
// probes and timestamps: interleaving a thousand targets' series family by family
// (about 40,000 pieces, 5 MB) and gzipping them takes tens of milliseconds, which on
// the probing thread is a stall added to every measurement in flight.
//
// Each target's families travel as one string with where each family ends in it (a few
// KB, sent when its round arrives). The worker holds the only copy: that string, as it
// arrived. Not bytes: a target's text grows after its first rounds (the TLS requirements,
// the histograms), and buffers of every size freed and allocated again leave malloc's
// arena twice the size of what it holds (52 MB for 26 MB of text at 5,000 hosts), while
// strings live in a heap the garbage collector compacts. A worker that died (a bug) is
// started again and given every target anew by the view (`replay`). A gzipped scrape is
// compressed a chunk at a time as it is read, so its whole text never exists at once; a
// plain one is one buffer, handed back without a copy.
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type * as Zlib from 'node:zlib';
import type { FamilyId } from './families.js';
import type { RenderedFamilies } from './target-series.js';

type Request =
  /**
   * Family i is characters [ends[i-1] (0 for the first), ends[i]) of `text`; `bytes`: the
   * text's length in UTF-8.
   */
  | { kind: 'set'; key: string; text: string; ends: number[]; bytes: number }
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
  /** A target's text, and where each family starts in it: family i is text[offsets[i], offsets[i+1]). */
  interface Held {
    text: string;
    offsets: Uint32Array;
    /** The text's length in UTF-8. */
    bytes: number;
  }
  const targets = new Map<string, Held>();
  // What deflate is given at a time: the text of a gzipped scrape never exists whole.
  const CHUNK = 256 * 1024;
  const chunk = Buffer.allocUnsafeSlow(CHUNK);

  const hold = (key: string, text: string, ends: readonly number[], bytes: number): void => {
    let held = targets.get(key);
    if (held === undefined) {
      held = { text, offsets: new Uint32Array(headers.length + 1), bytes };
      targets.set(key, held);
    }
    held.text = text;
    held.bytes = bytes;
    held.offsets.set(ends, 1);
  };

  /**
   * The exposition of the targets held, read in order into whatever buffer `fill` is given:
   * family by family (its header, then each target's piece), then the tail. A call writes
   * whole pieces while they fit, so it may fill less than the buffer; a piece larger than
   * the buffer is encoded on its own and copied across calls. Synchronous from the first
   * byte to the last: no set lands in the middle of a scrape.
   */
  function reader(declared: ReadonlySet<number>, tail: Buffer): { size: number; fill: (out: Buffer) => number } {
    const packs = [...targets.values()];
    const headed = headers.map((_, i) => declared.has(i) || packs.some(({ offsets }) => (offsets[i + 1] as number) > (offsets[i] as number)));
    let size = tail.length;
    headers.forEach((head, i) => {
      if (headed[i] === true) size += head.length;
    });
    for (const { bytes } of packs) size += bytes;
    // The piece being read: bytes [pos, end) of buf, or else characters [from, to) of text.
    // Where the next one comes from: family `family`, its header when `target` is -1, else
    // packs[target].
    let buf: Buffer | undefined;
    let pos = 0;
    let end = 0;
    let text = '';
    let from = 0;
    let to = 0;
    let family = 0;
    let target = -1;
    const bytesPiece = (bytes: Buffer): boolean => {
      buf = bytes;
      pos = 0;
      end = bytes.length;
      return end > 0;
    };
    const advance = (): boolean => {
      for (;;) {
        if (family > headers.length) return false;
        if (family === headers.length) {
          family += 1;
          if (bytesPiece(tail)) return true;
          continue;
        }
        if (target === -1) {
          if (headed[family] !== true) {
            family += 1;
            continue;
          }
          target = 0;
          if (bytesPiece(headers[family] as Buffer)) return true;
          continue;
        }
        while (target < packs.length) {
          const held = packs[target] as Held;
          target += 1;
          from = held.offsets[family] as number;
          to = held.offsets[family + 1] as number;
          if (to > from) {
            text = held.text;
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
        if (buf !== undefined) {
          const n = Math.min(end - pos, out.length - at);
          buf.copy(out, at, pos, pos + n);
          pos += n;
          at += n;
          if (pos === end) buf = undefined;
          continue;
        }
        if (from === to && !advance()) break;
        if (buf !== undefined) continue;
        const piece = text.slice(from, to);
        // At most 3 bytes a UTF-16 unit: a piece that surely fits is written without measuring.
        const room = out.length - at;
        const bytes = 3 * piece.length <= room ? -1 : Buffer.byteLength(piece);
        if (bytes > room) {
          if (at > 0) break;
          from = to;
          bytesPiece(Buffer.from(piece));
          continue;
        }
        at += out.write(piece, at);
        from = to;
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
      if (n === 0 && read < size) throw new Error(`the scrape ended after ${read} of ${size} bytes`);
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
        hold(request.key, request.text, request.ends, request.bytes);
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

  /** Sends a target's families: one string, where each family ends in it, its UTF-8 length. */
  private send(worker: Worker, key: string, rendered: RenderedFamilies): void {
    let text = '';
    const ends = this.families.map(([id]) => {
      text += rendered.get(id) ?? '';
      return text.length;
    });
    worker.postMessage({ kind: 'set', key, text, ends, bytes: Buffer.byteLength(text) } satisfies Request);
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { headers: this.families.map(([, head]) => head) } satisfies WorkerSetup,
      // Its heap holds every target's text and a scrape's bookkeeping.
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
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
