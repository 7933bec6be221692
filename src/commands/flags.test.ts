// A typo on the command line gets the nearest flag or command suggested, as git does.
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../main.js';
import { nearest, parseCommandLine, UsageError } from './flags.js';

const OPTIONS = { 'config.file': { type: 'string' }, 'log.level': { type: 'string' }, output: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function complaint(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  return 'no complaint';
}

describe('the command line', () => {
  it('suggests the nearest command for a misspelt one, and lists them when none is near', () => {
    expect(complaint(() => parseFlags(['chek']))).toBe("unknown command 'chek': did you mean 'check'?");
    expect(complaint(() => parseFlags(['catalgo', '--format=csv']))).toBe("unknown command 'catalgo': did you mean 'catalog'?");
    expect(complaint(() => parseFlags(['serve']))).toBe("unknown command 'serve' (commands: check, catalog)");
    expect(complaint(() => parseFlags(['--log.level=debug', 'check']))).toBe("'check' must come first, before any flag");
  });

  it('suggests the nearest flag for a misspelt one', () => {
    expect(complaint(() => parseFlags(['--log.levl=debug']))).toBe("unknown flag '--log.levl': did you mean '--log.level'?");
    expect(complaint(() => parseCommandLine(['--config.fil', 'x.yml'], OPTIONS))).toBe("unknown flag '--config.fil': did you mean '--config.file'?");
    expect(complaint(() => parseCommandLine(['--outptu=json'], OPTIONS))).toBe("unknown flag '--outptu': did you mean '--output'?");
    expect(complaint(() => parseCommandLine(['--verbose'], OPTIONS))).toBe("unknown flag '--verbose'");
    expect(complaint(() => parseCommandLine(['-x'], OPTIONS))).toBe("unknown flag '-x'");
  });

  it('says a command that takes only flags got a word, and keeps node\'s words for the rest', () => {
    expect(complaint(() => parseCommandLine(['json'], OPTIONS))).toBe("unexpected argument 'json': this command takes only flags");
    expect(complaint(() => parseCommandLine(['--config.file'], OPTIONS))).toBe("Option '--config.file <value>' argument missing");
  });

  it('suggests only what is near: a third of the word, at most three edits', () => {
    expect(nearest('chek', ['check', 'catalog'])).toBe('check');
    expect(nearest('cat', ['check', 'catalog'])).toBeUndefined();
    expect(nearest('web.listen-adress', ['web.listen-address', 'web.config.file'])).toBe('web.listen-address');
  });
});
