import type { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { FamilyId } from './families.js';
import { ScrapeAssembler } from './scrape-assembler.js';

const A = 'dnsSuccess' as FamilyId;
const B = 'tcpSuccess' as FamilyId;
const C = 'tlsSuccess' as FamilyId;
const FAMILIES = [
  [A, '# A\n'],
  [B, '# B\n'],
  [C, '# C\n'],
] as const;

let assembler: ScrapeAssembler | undefined;
afterEach(async () => {
  await assembler?.close();
  assembler = undefined;
});

describe('ScrapeAssembler', () => {
  it('interleaves targets family by family, heads only families with series or declared, then the tail', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    assembler.set('one', new Map([[A, 'a{t="one"} 1\n'], [C, 'c{t="one"} 1\n']]), 't="one"');
    assembler.set('two', new Map([[A, 'a{t="two"} 2\n']]), 't="two"');
    const body = await assembler.body([B], '# tail\n', false);
    expect(body.toString()).toBe('# A\na{t="one"} 1\na{t="two"} 2\n# B\n# C\nc{t="one"} 1\n# tail\n');
  });

  it('keeps byte offsets right for label values outside ASCII, and forgets a deleted target', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    assembler.set('one', new Map([[A, 'a{purpose="Zürich → 東京"} 1\n'], [B, 'b{purpose="ok"} 1\n']]), 'purpose="Zürich → 東京"');
    assembler.set('two', new Map([[B, 'b{t="two"} 1\n']]), 't="two"');
    expect((await assembler.body([], '', false)).toString()).toBe('# A\na{purpose="Zürich → 東京"} 1\n# B\nb{purpose="ok"} 1\nb{t="two"} 1\n');
    assembler.delete('one');
    expect((await assembler.body([], '', false)).toString()).toBe('# B\nb{t="two"} 1\n');
  });

  it('gzips when asked, small answers included (not a slice of a shared pool)', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    assembler.set('one', new Map([[A, 'a 1\n']]), '');
    const [small, plain] = await Promise.all([assembler.body([], '', true), assembler.body([], '', false)]);
    expect(gunzipSync(small).toString()).toBe('# A\na 1\n');
    expect(plain.toString()).toBe('# A\na 1\n');
    const big = new Map([[A, 'a{x="y"} 1\n'.repeat(50_000)]]);
    assembler.set('big', big, 'x="y"');
    expect(gunzipSync(await assembler.body([], '', true)).toString()).toBe(`# A\na 1\n${big.get(A) ?? ''}`);
  });

  it('reads gzipped and plain alike when pieces outside ASCII straddle its chunks, and after a target grows', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const line = (t: number, v: number) => `a{purpose="Zürich → 東京 ${t}"} ${v}\n`;
    for (let t = 0; t < 6000; t += 1) assembler.set(`t${t}`, new Map([[A, line(t, 1)], [C, `c{t="${t}"} 1\n`]]), `t="${t}"`);
    // A second round: every target's text longer than its first.
    for (let t = 0; t < 6000; t += 1) assembler.set(`t${t}`, new Map([[A, line(t, 1) + line(t, 2)], [B, `b{t="${t}"} 2\n`], [C, `c{t="${t}"} 1\n`]]), `t="${t}"`);
    let expected = '# A\n';
    for (let t = 0; t < 6000; t += 1) expected += line(t, 1) + line(t, 2);
    expected += '# B\n';
    for (let t = 0; t < 6000; t += 1) expected += `b{t="${t}"} 2\n`;
    expected += '# C\n';
    for (let t = 0; t < 6000; t += 1) expected += `c{t="${t}"} 1\n`;
    expected += '# tail é\n';
    expect(Buffer.byteLength(expected)).toBeGreaterThan(2 * 256 * 1024);
    const [zipped, plain] = await Promise.all([assembler.body([], '# tail é\n', true), assembler.body([], '# tail é\n', false)]);
    expect(plain.toString()).toBe(expected);
    expect(gunzipSync(zipped).toString()).toBe(expected);
  });

  it('answers again after a close: a new worker gets every target from the replay, this side keeps no copy', async () => {
    const held = new Map<string, Map<FamilyId, string>>([['one', new Map([[A, 'a 1\n']])]]);
    const replay = () => [...held].map(([key, rendered]) => [key, rendered, ''] as const);
    assembler = new ScrapeAssembler(FAMILIES, replay);
    assembler.set('one', held.get('one')!, '');
    expect((await assembler.body([], '', false)).toString()).toBe('# A\na 1\n');
    await assembler.close();
    held.set('two', new Map([[B, 'b 2\n']]));
    assembler.set('two', held.get('two')!, '');
    expect((await assembler.body([], '', false)).toString()).toBe('# A\na 1\n# B\nb 2\n');
  });

  it("overwrites a target's text in place, shorter or longer than the last round's", async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const round = (text: string) => new Map([[A, text], [C, 'c 1\n']]);
    assembler.set('one', round(`a{x="${'y'.repeat(100)}"} 1\n`), 'x="y"');
    assembler.set('one', round('a 2\n'), 'x="y"');
    expect((await assembler.body([], '', false)).toString()).toBe('# A\na 2\n# C\nc 1\n');
    assembler.set('one', round(`a{x="${'z'.repeat(5000)}"} 3\n`), 'x="y"');
    expect((await assembler.body([], '', false)).toString()).toBe(`# A\na{x="${'z'.repeat(5000)}"} 3\n# C\nc 1\n`);
  });

  it('reads a scrape larger than its gzip chunk across chunk, piece and family boundaries', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    // 700 targets of three families, about 600 KB: several 256 KB chunks, pieces cut in two.
    let expected = '';
    const pieces: Array<[FamilyId, string[]]> = [[A, []], [B, []], [C, []]];
    for (let t = 0; t < 700; t += 1) {
      const rendered = new Map<FamilyId, string>();
      for (const [id, list] of pieces) {
        const piece = `${id}{target="t${t}",pad="${'x'.repeat((t * 7) % 300)}"} ${t}\n`;
        rendered.set(id, piece);
        list.push(piece);
      }
      assembler.set(`t${t}`, rendered, `target="t${t}"`);
    }
    for (const [id, list] of pieces) expected += `# ${id === A ? 'A' : id === B ? 'B' : 'C'}\n${list.join('')}`;
    expected += '# tail\n';
    const [zipped, plain] = await Promise.all([assembler.body([], '# tail\n', true), assembler.body([], '# tail\n', false)]);
    expect(plain.toString()).toBe(expected);
    expect(gunzipSync(zipped).toString()).toBe(expected);
  });
});

/** What a test sent, in the order the worker holds it: the text every scrape must give back. */
class Sent {
  private readonly targets = new Map<string, Map<FamilyId, string>>();
  constructor(private readonly assembler: ScrapeAssembler) {}
  set(key: string, rendered: Map<FamilyId, string>, labels: string): void {
    this.assembler.set(key, rendered, labels);
    this.targets.set(key, rendered);
  }
  delete(key: string): void {
    this.assembler.delete(key);
    this.targets.delete(key);
  }
  text(declared: readonly FamilyId[], tail: string): string {
    let out = '';
    for (const [id, head] of FAMILIES) {
      let family = '';
      for (const rendered of this.targets.values()) family += rendered.get(id) ?? '';
      if (family !== '' || declared.includes(id)) out += head + family;
    }
    return out + tail;
  }
}

/** A plain and a gzipped scrape, each byte for byte the text the targets sent. */
async function expectScrapes(sent: Sent, declared: readonly FamilyId[] = [B], tail = '# tail\n'): Promise<void> {
  const expected = sent.text(declared, tail);
  const [plain, zipped] = await Promise.all([assembler!.body(declared, tail, false), assembler!.body(declared, tail, true)]);
  expect(plain.toString('utf8')).toBe(expected);
  expect(plain.equals(Buffer.from(expected))).toBe(true);
  expect(gunzipSync(zipped).equals(Buffer.from(expected))).toBe(true);
}

/** The label text every series of a target starts with, as labels.ts and exposition.ts write it. */
const own = (host: string, port = 443): string => (port === 443 ? `host="${host}"` : `host="${host}",port="${port}"`);

/** A target's families as TargetSeries renders them: its label text first in every line's labels. */
function probed(host: string, port = 443, values: { ok?: number; seconds?: number; finished?: string } = {}): Map<FamilyId, string> {
  const labels = own(host, port);
  return new Map([
    [
      A,
      `egress_target_info{host="${host}",port="${port}",source="config",purpose="CDN edge"} 1\n` +
        `egress_probe_success{${labels},check="dns",resolver="127.0.0.1:53"} 1\n` +
        `egress_probe_success{${labels},check="tls",path="direct"} ${values.ok ?? 1}\n`,
    ],
    [C, `egress_tls_handshake_duration_seconds{${labels},path="direct"} ${values.seconds ?? 0.0123}\negress_exporter_round_finished_timestamp_seconds{${labels}} ${values.finished ?? '1733600000.123'}\n`],
  ]);
}

describe('ScrapeAssembler, targets held as shapes and values', () => {
  it('holds many targets of one shape once, and scrapes exactly what they sent', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    for (let i = 0; i < 300; i += 1) sent.set(`h${i}.example`, probed(`h${i}.example`, 443, { ok: i % 2, seconds: i / 1000, finished: `1733600${i}.5` }), own(`h${i}.example`));
    expect(await assembler.stats()).toMatchObject({ targets: 300, shapes: 1, families: 2, whole: 0 });
    await expectScrapes(sent);
  });

  it('keeps a shape for each kind of target, and frees one when its last target changes shape or goes', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    const failing = (host: string): Map<FamilyId, string> => {
      const rendered = probed(host, 443, { ok: 0 });
      rendered.set(B, `egress_probe_failure_reason{${own(host)},check="tls",path="direct",reason="handshake_timeout"} 1\n`);
      return rendered;
    };
    for (const host of ['a.example', 'b.example', 'c.example']) sent.set(host, probed(host), own(host));
    for (const host of ['d.example', 'e.example']) sent.set(host, failing(host), own(host));
    // Failing adds a family (the reason); the others' shapes are the same.
    expect(await assembler.stats()).toMatchObject({ targets: 5, shapes: 2, families: 3 });
    await expectScrapes(sent);

    // A failing target recovers: its shape is the others' now; the failing one is still d's.
    sent.set('e.example', probed('e.example'), own('e.example'));
    expect(await assembler.stats()).toMatchObject({ targets: 5, shapes: 2, families: 3 });
    await expectScrapes(sent);
    sent.set('d.example', probed('d.example'), own('d.example'));
    expect(await assembler.stats()).toMatchObject({ targets: 5, shapes: 1, families: 2 });
    await expectScrapes(sent);

    // Deleted: its shape stays while others have it, and goes with the last of them.
    sent.set('a.example', failing('a.example'), own('a.example'));
    sent.delete('a.example');
    expect(await assembler.stats()).toMatchObject({ targets: 4, shapes: 1, families: 2 });
    for (const host of ['b.example', 'c.example', 'd.example', 'e.example']) sent.delete(host);
    expect(await assembler.stats()).toMatchObject({ targets: 0, shapes: 0, families: 0 });
    await expectScrapes(sent);
    sent.set('f.example', failing('f.example'), own('f.example'));
    expect(await assembler.stats()).toMatchObject({ targets: 1, shapes: 1, families: 3 });
    await expectScrapes(sent);
  });

  it("a line of a target's own makes that family's shape its own, not the whole text's", async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    for (let i = 0; i < 50; i += 1) {
      const host = `h${i}.example`;
      const rendered = probed(host);
      rendered.set(B, `egress_target_label_info{${own(host)},name="ticket",value="OPS-${i}"} 1\n`);
      sent.set(host, rendered, own(host));
    }
    expect(await assembler.stats()).toMatchObject({ targets: 50, shapes: 50, families: 52 });
    await expectScrapes(sent);
  });

  it('puts back the label text wherever the target carries it, and only its own', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    // Registries whose blob is served by the registry itself: blob_host carries the host.
    const registry = (host: string, port = 443): Map<FamilyId, string> => {
      const rendered = probed(host, port);
      rendered.set(B, `egress_registry_blob_host_info{${own(host, port)},path="direct",blob_host="${host}"} 1\n`);
      return rendered;
    };
    sent.set('r1.example', registry('r1.example'), own('r1.example'));
    sent.set('r2.example', registry('r2.example'), own('r2.example'));
    expect(await assembler.stats()).toMatchObject({ shapes: 1 });
    // The same host on another port: a label text of two labels, which the 443 one's begins.
    sent.set('r1.example:8443', registry('r1.example', 8443), own('r1.example', 8443));
    // A host that another's label text begins with, and a host inside other label values.
    sent.set('r1.example.org', registry('r1.example.org'), own('r1.example.org'));
    const mentioning = probed('m.example');
    mentioning.set(B, `egress_target_label_info{${own('m.example')},name="mirror_of",value="host=\\"r1.example\\" m.example host=\\"m.example\\""} 1\n`);
    sent.set('m.example', mentioning, own('m.example'));
    await expectScrapes(sent);
    sent.delete('r1.example');
    await expectScrapes(sent);
  });

  it('keeps a text holding the marker characters whole (label values come from hostile servers)', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    const hostile = probed('evil.example');
    hostile.set(B, `egress_tls_cert_issuer_info{${own('evil.example')},path="direct",issuer="CN=\u0001\u0002\u0003 O=x} 1"} 1\n`);
    sent.set('evil.example', hostile, own('evil.example'));
    sent.set('good.example', probed('good.example'), own('good.example'));
    sent.set('odd.example', probed('odd.example'), 'host="\u0001"');
    expect(await assembler.stats()).toMatchObject({ targets: 3, shapes: 1, whole: 2 });
    await expectScrapes(sent);
    // Cut again once it is clean, and whole again when it is not.
    sent.set('evil.example', probed('evil.example'), own('evil.example'));
    expect(await assembler.stats()).toMatchObject({ targets: 3, shapes: 1, whole: 1 });
    sent.set('good.example', hostile, own('evil.example'));
    expect(await assembler.stats()).toMatchObject({ whole: 2 });
    await expectScrapes(sent);
  });

  it("cuts every kind of value exactly, and label values with spaces, '} 1' and escaped quotes", async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    const values = ['NaN', '+Inf', '-Inf', '1e-7', '1733600000.123', '-0.5', '0', '12345678901234567890'];
    const lines = (host: string, shift: number): Map<FamilyId, string> => {
      const labels = own(host);
      const value = (i: number): string => values[(i + shift) % values.length] as string;
      return new Map([
        [A, values.map((_, i) => `egress_probe_duration_seconds{${labels},check="c${i}",note="a b} 1 \\"q\\" } 2"} ${value(i)}\n`).join('')],
        [B, `egress_probe_success{${labels},msg="ends in a space "} ${value(0)}\negress_probe_success{${labels},msg="\\\\ \\n Zürich → 東京"} ${value(1)}\n`],
        [
          C,
          `egress_probe_duration_histogram_seconds_bucket{${labels},check="tls",le="0.005"} 0\n` +
            `egress_probe_duration_histogram_seconds_bucket{${labels},check="tls",le="+Inf"} ${shift}\n` +
            `egress_probe_duration_histogram_seconds_sum{${labels},check="tls"} ${value(4)}\n` +
            `egress_probe_duration_histogram_seconds_count{${labels},check="tls"} ${shift}\n`,
        ],
      ]);
    };
    for (let i = 0; i < 20; i += 1) sent.set(`v${i}.example`, lines(`v${i}.example`, i), own(`v${i}.example`));
    expect(await assembler.stats()).toMatchObject({ shapes: 1, whole: 0 });
    await expectScrapes(sent, [A, B, C], '');
  });

  it('gives back odd text as it came: lines without a value or a newline, empty lines, no label text', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    sent.set('one', new Map([[A, 'bare\n\n a 1\ntrailing space \n'], [B, 'no newline 2'], [C, '\n']]), '');
    sent.set('two', new Map([[A, 'x{y="z"} 1'], [C, 'host="two" 3\n']]), 'host="two"');
    sent.set('three', new Map([[B, ' ']]), 'host="three"');
    await expectScrapes(sent, [], '');
    await expectScrapes(sent, [A, B, C], '# tail without a newline');
  });

  it('gives back any text made of the pieces that matter (spaces, newlines, braces, quotes, the label text, markers)', async () => {
    assembler = new ScrapeAssembler(FAMILIES);
    const sent = new Sent(assembler);
    // A fixed pseudo-random sequence (a linear congruential generator): the same texts every run.
    let seed = 23;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = (labels: string): string[] => [' ', '\n', '{', '}', '"', '\\"', ',', 'x', '1', 'é', '東', labels, labels.slice(0, 3), '\u0001', '\u0002'];
    for (let t = 0; t < 200; t += 1) {
      const labels = t % 7 === 0 ? '' : own(`h${t % 5}`, t % 3 === 0 ? 8443 : 443);
      const choice = pieces(labels);
      const text = (): string => Array.from({ length: next(40) }, () => choice[next(t % 4 === 0 ? choice.length : choice.length - 2)] as string).join('');
      sent.set(`t${t % 150}`, new Map([[A, text()], [B, text()], [C, text()]]), labels);
    }
    const stats = await assembler.stats();
    expect(stats.whole).toBeGreaterThan(0);
    expect(stats.whole).toBeLessThan(stats.targets);
    await expectScrapes(sent, [A, B, C]);
  });

  it('a worker that died is started again and given every target again from the replay', async () => {
    const sentTargets = new Map<string, readonly [Map<FamilyId, string>, string]>();
    assembler = new ScrapeAssembler(FAMILIES, () => [...sentTargets].map(([key, [rendered, labels]]) => [key, rendered, labels] as const));
    const sent = new Sent(assembler);
    for (const host of ['a.example', 'b.example', 'c.example']) {
      sentTargets.set(host, [probed(host, 8443), own(host, 8443)]);
      sent.set(host, probed(host, 8443), own(host, 8443));
    }
    await expectScrapes(sent);
    const worker = Reflect.get(assembler, 'worker') as Worker;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await worker.terminate();
    await exited;
    expect(await assembler.stats()).toMatchObject({ targets: 3, shapes: 1 });
    await expectScrapes(sent);
  });
});
