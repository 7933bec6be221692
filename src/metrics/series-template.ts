// A target's series text held as the shape it shares with targets of its kind, plus what
// is its own. Targets of one catalog differ in their own label text (`host="a"` or
// `host="a",port="8443"`, which leads every line's labels and reappears in a few, as in
// `blob_host="a"`) and in each line's value; metric names, label names and the other label
// values (paths, checks, requirements, reasons) repeat from target to target. So a text is
// cut, family by family, into shapes (the family's text with each occurrence of the target's
// label text and each value replaced by a marker), which the scrape worker keeps once for
// every target of that kind, and its values, which each target keeps. Shapes are per family
// so that a line only one target has (a label of its own) makes that family's shape its
// own, not its whole text's.
//
// A value is what follows the last space of a line: label values may hold spaces (and
// `} 1`) but never a newline, so the value is always the line's last token. The cut is
// exact for any text without the marker characters: gluing the shape's literal text, the
// label text and the values back together gives the text, byte for byte. A text that
// holds a marker (a label value from a hostile server can hold anything) is not cut.
//
// These functions run inside the scrape worker, which is eval'd from source text, so each
// is self-contained (no imports, nothing of this module's scope): scrape-assembler.ts puts
// their source into the worker's program.

/** One family of a shape, ready to be filled in: what targets of one kind share. */
export interface ShapeFamily {
  /** Literal text: parts[0], then each slot's filling followed by parts[i + 1]. */
  parts: string[];
  /** Each slot's marker, in order: U+0001 for the target's label text, U+0002 for its next value. */
  slots: string;
}

/**
 * `text` (family i is characters [ends[i-1] or 0, ends[i])) cut into each family's shape
 * and the text's values, or undefined when it holds a marker character. A family's shape is
 * its text with U+0001 for each occurrence of `labels` before a line's value and U+0002 for
 * each value ('' for an empty family); the values are each line's value followed by '\n'.
 * Each string comes back flat (not a tree of the pieces it was built from).
 */
export function cutSeries(text: string, ends: readonly number[], labels: string): { families: string[]; values: string } | undefined {
  const marked = (part: string): boolean => part.includes('\u0001') || part.includes('\u0002');
  if (marked(text) || marked(labels)) return undefined;
  /** `head` with U+0001 for each occurrence of the label text. */
  const own = (head: string): string => {
    let at = labels === '' ? -1 : head.indexOf(labels);
    if (at === -1) return head;
    let out = '';
    let from = 0;
    while (at !== -1) {
      out += `${head.slice(from, at)}\u0001`;
      from = at + labels.length;
      at = head.indexOf(labels, from);
    }
    return out + head.slice(from);
  };
  let values = '';
  let start = 0;
  const families = ends.map((end) => {
    let shape = '';
    let line = start;
    while (line < end) {
      const newline = text.indexOf('\n', line);
      // The line is [line, stop); a family's last line may lack its newline.
      const stop = newline === -1 || newline >= end ? end : newline;
      const space = stop > line ? text.lastIndexOf(' ', stop - 1) : -1;
      if (space >= line) {
        shape += `${own(text.slice(line, space + 1))}\u0002`;
        values += `${text.slice(space + 1, stop)}\n`;
      } else {
        shape += own(text.slice(line, stop));
      }
      if (stop < end) shape += '\n';
      line = stop + 1;
    }
    start = end;
    // Reading a character flattens a concatenated string in place: a flat shape is hashed
    // and compared (the scrape worker looks it up) at a fraction of the cost.
    shape.charCodeAt(0);
    return shape;
  });
  values.charCodeAt(0);
  return { families, values };
}

/** A family's shape (from cutSeries) made ready to fill; its parts are slices of `shape`. */
export function shapeFamily(shape: string): ShapeFamily {
  // Flat first: slices of a concatenation would each flatten a copy of it.
  shape.charCodeAt(0);
  const parts: string[] = [];
  let slots = '';
  let from = 0;
  for (let i = 0; i < shape.length; i += 1) {
    const code = shape.charCodeAt(i);
    if (code !== 1 && code !== 2) continue;
    parts.push(shape.slice(from, i));
    slots += shape[i] as string;
    from = i + 1;
  }
  parts.push(shape.slice(from));
  slots.charCodeAt(0);
  // A copy of the exact length: an array grown by push keeps room to spare.
  return { parts: parts.slice(), slots };
}

/** A text that is not cut, as families of one literal part each (family i ends at ends[i]). */
export function literalFamilies(text: string, ends: readonly number[]): Array<ShapeFamily | undefined> {
  let start = 0;
  return ends.map((end) => {
    const family = end > start ? { parts: [text.slice(start, end)], slots: '' } : undefined;
    start = end;
    return family;
  });
}

/**
 * One family of one target as text: the family's literal parts with the target's label
 * text and values in their slots. `cursors[target]`: where the family's first value starts
 * in `values`, moved past its last. A target's families are read in order, so its values
 * are read front to back and need no index of where each one starts.
 */
export function fillFamily(family: ShapeFamily, labels: string, values: string, cursors: number[], target: number): string {
  const { parts, slots } = family;
  let piece = parts[0] as string;
  let from = cursors[target] as number;
  for (let i = 0; i < slots.length; i += 1) {
    if (slots.charCodeAt(i) === 1) {
      piece += labels;
    } else {
      const end = values.indexOf('\n', from);
      piece += values.slice(from, end);
      from = end + 1;
    }
    piece += parts[i + 1] as string;
  }
  cursors[target] = from;
  return piece;
}
