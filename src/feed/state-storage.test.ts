import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedStorageError, STATE_FILE_NAME, StateStorage } from './state-storage.js';

describe('StateStorage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'egress-feed-storage-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the directory, and reads nothing before the first save', async () => {
    const storage = await StateStorage.open(join(dir, 'a', 'b'));
    expect(await storage.read()).toBeNull();
    await storage.write('one');
    expect(await storage.read()).toBe('one');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual([STATE_FILE_NAME]);
  });

  it('replaces the file whole: the old state or the new one, and no temporary file left', async () => {
    const storage = await StateStorage.open(dir);
    await storage.write('old state');
    await storage.write('new state');
    expect(await readFile(join(dir, STATE_FILE_NAME), 'utf8')).toBe('new state');
    expect(await readdir(dir)).toEqual([STATE_FILE_NAME]);
  });

  it('a crash in the middle of a write leaves the last state; its torn temporary file is removed at the next start', async () => {
    const before = await StateStorage.open(dir);
    await before.write('{"complete": true}');
    // What a crash between the write and the rename leaves behind.
    const torn = join(dir, `.${STATE_FILE_NAME}.4242.7.tmp`);
    await writeFile(torn, '{"compl');
    const after = await StateStorage.open(dir);
    expect(await after.read()).toBe('{"complete": true}');
    expect(await readdir(dir)).toEqual([STATE_FILE_NAME]);
  });

  it('refuses a directory it cannot write, saying so', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    await expect(StateStorage.open(file)).rejects.toThrow(FeedStorageError);
    await expect(StateStorage.open(join(file, 'sub'))).rejects.toThrow(/^--storage\.path: cannot use ".*a-file\/sub": .*\(ENOTDIR\)$/);
  });

  it('a failed write leaves the last state and no temporary file', async () => {
    const storage = await StateStorage.open(dir);
    await storage.write('kept');
    // A directory where the file would go: the rename fails.
    await rm(join(dir, STATE_FILE_NAME));
    await mkdir(join(dir, STATE_FILE_NAME, 'x'), { recursive: true });
    await expect(storage.write('lost')).rejects.toThrow();
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

