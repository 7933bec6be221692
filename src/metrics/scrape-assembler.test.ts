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
