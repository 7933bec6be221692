import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onAbort } from './abort.js';

describe('onAbort', () => {
  it('puts every waiter on one listener, calls each once in order, and forgets the ones taken back', () => {
    const controller = new AbortController();
    const called: number[] = [];
    const forgets = Array.from({ length: 1000 }, (_, i) => onAbort(controller.signal, () => called.push(i)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (let i = 0; i < 1000; i += 2) forgets[i]?.();
    controller.abort();
    controller.abort();
    expect(called).toEqual(Array.from({ length: 500 }, (_, i) => 2 * i + 1));
  });
});
