// The /metrics body is put together on a worker thread, never on the thread that
// probes and timestamps: interleaving a thousand targets' series family by family
// (about 40,000 pieces, 5 MB) and gzipping them takes tens of milliseconds, which on
// the probing thread is a stall added to every measurement in flight.
//
// Each target's families travel as one string with where each family ends in it (a few
// KB, sent when its round arrives), with the target's own label text. The worker holds
// the only copy, cut in two (series-template.ts): its families' shapes, which targets of
// one kind share (metric and label names, paths, checks, reasons: five thousand hosts of a
// CDN have a handful of shapes), each kept once in a map with a count of its users and
// dropped with the last; and the target's own values and label text, a few hundred bytes
// instead of 5.8 KB. A text that cannot be cut safely (it holds the cut's marker
// characters) is kept whole, as it came. Strings, not buffers: a target's values change
// every round, and buffers of every size freed and allocated again leave malloc's arena
// twice the size of what it holds, while strings live in a heap the garbage collector
// compacts. A worker that died (a bug) is started again and given every target anew by
// the view (`replay`). A gzipped scrape is compressed a chunk at a time as it is read, so
// its whole text never exists at once; a plain one is one buffer, handed back without a
// copy.
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type * as V8 from 'node:v8';
import type * as Zlib from 'node:zlib';
import type { FamilyId } from './families.js';
import { cutSeries, fillFamily, literalFamilies, shapeFamily } from './series-template.js';
import type { ShapeFamily } from './series-template.js';
import type { RenderedFamilies } from './target-series.js';

type Request =
  /**
   * Family i is characters [ends[i-1] (0 for the first), ends[i]) of `text`; `bytes`: the
   * text's length in UTF-8; `labels`: the target's own label text, as its lines carry it.
   */
  | { kind: 'set'; key: string; text: string; ends: number[]; bytes: number; labels: string }
  | { kind: 'delete'; key: string }
  /** `declared`: indexes of families headed even with no series; `tail` follows the families. */
  | { kind: 'scrape'; id: number; declared: readonly number[]; tail: string; gzip: boolean }
  | { kind: 'stats'; id: number };

/** What the worker holds, for tests and the bench. */
export interface AssemblerStats {
  targets: number;
  /** Distinct shapes held: each a list of family shapes. */
  shapes: number;
  /** Distinct family shapes held. */
  families: number;
  /** Targets held whole, their text not cut. */
  whole: number;
  /** The worker's V8 heap in use (after a full GC when the process exposes `gc`). */
  heapUsed: number;
}

type Reply = { id: number; body: ArrayBuffer } | { id: number; stats: AssemblerStats };

interface WorkerSetup {
  /** Each family's HELP and TYPE lines, in exposition order. */
  headers: readonly string[];
}

/** What the worker's program is given: modules it may not import, and series-template.ts. */
interface WorkerLib {
  zlib: typeof Zlib;
  v8: typeof V8;
  cutSeries: typeof cutSeries;
  shapeFamily: typeof shapeFamily;
  literalFamilies: typeof literalFamilies;
  fillFamily: typeof fillFamily;
}

/**
 * The worker's whole program. It runs from its source text (`eval`), so it uses only
 * its parameters and globals: no import, nothing from this module's scope.
 */
function assemblerMain(port: MessagePort, setup: WorkerSetup, lib: WorkerLib): void {
  const { zlib, v8 } = lib;
  const headers = setup.headers.map((text) => Buffer.from(text));
  /** A family's shape, and how many target shapes have it. */
  interface Family extends ShapeFamily {
    key: string;
    /** Names it in its target shapes' keys. */
    id: number;
    users: number;
  }
  /**
   * A target's families' shapes (undefined where it has none), shared by the targets with
   * the same list: its key is their ids. One that is not `shared` is a single target's text
   * as it came, not cut.
   */
  interface Shape {
    key: string;
    shared: boolean;
    users: number;
    families: Array<ShapeFamily | undefined>;
  }
  interface Held {
    shape: Shape;
    /** Its own label text and its values, each followed by '\n' (series-template.ts). */
    labels: string;
    values: string;
    /** Its text's length in UTF-8. */
    bytes: number;
  }
  const families = new Map<string, Family>();
  const shapes = new Map<string, Shape>();
  const targets = new Map<string, Held>();
  let nextFamilyId = 0;
  // What deflate is given at a time: the text of a gzipped scrape never exists whole.
  const CHUNK = 256 * 1024;
  const chunk = Buffer.allocUnsafeSlow(CHUNK);
  // Targets' pieces are gathered up to this many characters before they are written: a
  // write costs more than a target's piece of a family (a few hundred bytes), and a piece
  // is a concatenation, flattened when written.
  const BATCH = 4096;

  const familyOf = (text: string): Family => {
    let family = families.get(text);
    if (family === undefined) {
      const { parts, slots } = lib.shapeFamily(text);
      // Counted by the target shape that takes it (a new family always makes a new one).
      family = { key: text, id: (nextFamilyId += 1), users: 0, parts, slots };
      families.set(text, family);
    }
    return family;
  };

  /** The shape made of these families' shapes (from cutSeries), taken by one more target. */
  const take = (cut: readonly string[]): Shape => {
    const own = cut.map((text) => (text === '' ? undefined : familyOf(text)));
    const key = own.map((family) => family?.id ?? '').join();
    let shape = shapes.get(key);
    if (shape === undefined) {
      shape = { key, shared: true, users: 0, families: own };
      shapes.set(key, shape);
      for (const family of own) if (family !== undefined) family.users += 1;
    }
    shape.users += 1;
    return shape;
  };

  const release = (shape: Shape): void => {
    if (!shape.shared) return;
    shape.users -= 1;
    if (shape.users > 0) return;
    shapes.delete(shape.key);
    for (const family of shape.families as Array<Family | undefined>) {
      if (family === undefined) continue;
      family.users -= 1;
      if (family.users === 0) families.delete(family.key);
    }
  };

  const hold = (key: string, text: string, ends: readonly number[], bytes: number, labels: string): void => {
    const cut = lib.cutSeries(text, ends, labels);
    const shape = cut === undefined ? { key, shared: false, users: 1, families: lib.literalFamilies(text, ends) } : take(cut.families);
    const values = cut?.values ?? '';
    const held = targets.get(key);
    if (held === undefined) {
      targets.set(key, { shape, labels, values, bytes });
      return;
    }
    // Released after the new one is taken: an unchanged shape is not dropped and built again.
    release(held.shape);
    held.shape = shape;
    held.labels = labels;
    held.values = values;
    held.bytes = bytes;
  };

  const forget = (key: string): void => {
    const held = targets.get(key);
    if (held === undefined) return;
    targets.delete(key);
    release(held.shape);
  };

  /**
   * The exposition of the targets held, read in order into whatever buffer `fill` is given:
   * family by family (its header, then each target's piece, filled in from its shape and
   * values), then the tail. A call writes whole pieces while they fit, so it may fill less
   * than the buffer; a piece larger than the buffer is encoded on its own and copied across
   * calls. Synchronous from the first byte to the last: no set lands in the middle of a
   * scrape.
   */
  function reader(declared: ReadonlySet<number>, tail: Buffer): { size: number; fill: (out: Buffer) => number } {
    const packs = [...targets.values()];
    const headed = headers.map((_, i) => declared.has(i) || packs.some(({ shape }) => shape.families[i] !== undefined));
    let size = tail.length;
    headers.forEach((head, i) => {
      if (headed[i] === true) size += head.length;
    });
    for (const { bytes } of packs) size += bytes;
    // Where each target's next value starts in its values: its families are read in order.
    const cursors = new Array<number>(packs.length).fill(0);
    // The piece being read: bytes [pos, end) of buf, or else `piece`, the pieces of a
    // family's next targets. Where the next one comes from: family `family`, its header
    // when `target` is -1, else packs[target].
    let buf: Buffer | undefined;
    let pos = 0;
    let end = 0;
    let piece: string | undefined;
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
          const shaped = held.shape.families[family];
          target += 1;
          if (shaped === undefined) continue;
          const text = lib.fillFamily(shaped, held.labels, held.values, cursors, target - 1);
          piece = piece === undefined ? text : piece + text;
          if (piece.length >= BATCH) return true;
        }
        // The family's last targets: handed over, and the next call moves on.
        if (piece !== undefined) return true;
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
        if (piece === undefined && !advance()) break;
        if (piece === undefined) continue;
        // At most 3 bytes a UTF-16 unit: a piece that surely fits is written without measuring.
        const room = out.length - at;
        const bytes = 3 * piece.length <= room ? -1 : Buffer.byteLength(piece);
        if (bytes > room) {
          if (at > 0) break;
          bytesPiece(Buffer.from(piece));
          piece = undefined;
          continue;
        }
        at += out.write(piece, at);
        piece = undefined;
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
        hold(request.key, request.text, request.ends, request.bytes, request.labels);
        return;
      case 'delete':
        forget(request.key);
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
        port.postMessage({ id: request.id, body: body.buffer as ArrayBuffer } satisfies Reply, [body.buffer as ArrayBuffer]);
        return;
      }
      case 'stats': {
        // Exposed only where asked for (node --expose-gc, the bench): then the heap is what is retained.
        (globalThis as { gc?: () => void }).gc?.();
        let whole = 0;
        for (const { shape } of targets.values()) if (!shape.shared) whole += 1;
        const stats = { targets: targets.size, shapes: shapes.size, families: families.size, whole, heapUsed: v8.getHeapStatistics().used_heap_size };
        port.postMessage({ id: request.id, stats } satisfies Reply);
        return;
      }
    }
  });
}

// __name: what esbuild (tsx, vitest) wraps named functions in; tsc adds none. The cut's
// functions (series-template.ts) come in as source text too, each self-contained.
const WORKER_SOURCE = `'use strict';
const __name = (f) => f;
const { parentPort, workerData } = require('node:worker_threads');
const lib = {
  zlib: require('node:zlib'),
  v8: require('node:v8'),
  cutSeries: (${cutSeries.toString()}),
  shapeFamily: (${shapeFamily.toString()}),
  literalFamilies: (${literalFamilies.toString()}),
  fillFamily: (${fillFamily.toString()}),
};
(${assemblerMain.toString()})(parentPort, workerData, lib);
`;

/**
 * Where a new worker gets every target's families from: the view renders them again,
 * each with the target's own label text.
 */
export type Replay = () => Iterable<readonly [key: string, rendered: RenderedFamilies, labels: string]>;

export class ScrapeAssembler {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
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

  /**
   * `labels`: the target's own label text as its lines carry it (`host="a.example"`,
   * `host="a.example",port="8443"`): what sets the target's lines apart from its kind's.
   */
  set(key: string, rendered: RenderedFamilies, labels: string): void {
    this.worker ??= this.start();
    this.send(this.worker, key, rendered, labels);
  }

  delete(key: string): void {
    this.worker?.postMessage({ kind: 'delete', key } satisfies Request);
  }

  /** The targets' families in order (those in `declared` headed even when empty), then `tail`. */
  async body(declared: readonly FamilyId[], tail: string, gzip: boolean): Promise<Buffer> {
    const reply = await this.ask((id) => ({ kind: 'scrape', id, declared: declared.map((family) => this.index.get(family) ?? -1), tail, gzip }));
    if (!('body' in reply)) throw new Error('the scrape assembler answered a scrape without a body');
    return Buffer.from(reply.body);
  }

  /** What the worker holds: its targets, their shapes, its heap. */
  async stats(): Promise<AssemblerStats> {
    const reply = await this.ask((id) => ({ kind: 'stats', id }));
    if (!('stats' in reply)) throw new Error('the scrape assembler answered stats without them');
    return reply.stats;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the scrape assembler was closed'));
    await worker?.terminate();
  }

  private ask(request: (id: number) => Request): Promise<Reply> {
    const id = (this.nextId += 1);
    this.worker ??= this.start();
    const worker = this.worker;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request(id));
    });
  }

  /** Sends a target's families: one string, where each family ends in it, its UTF-8 length, its label text. */
  private send(worker: Worker, key: string, rendered: RenderedFamilies, labels: string): void {
    let text = '';
    const ends = this.families.map(([id]) => {
      text += rendered.get(id) ?? '';
      return text.length;
    });
    worker.postMessage({ kind: 'set', key, text, ends, bytes: Buffer.byteLength(text), labels } satisfies Request);
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { headers: this.families.map(([, head]) => head) } satisfies WorkerSetup,
      // Its heap holds every target's values and shape and a scrape's bookkeeping.
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    });
    // An idle assembler must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiting?.resolve(reply);
    });
    const gone = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.fail(error);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`the scrape assembler exited with code ${code}`)));
    for (const [key, rendered, labels] of this.replay()) this.send(worker, key, rendered, labels);
    return worker;
  }

  private fail(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
