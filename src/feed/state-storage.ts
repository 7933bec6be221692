// Where the feed's state lives between runs: one file in the --storage.path directory,
// replaced atomically. A save writes a temporary file beside it, fsyncs it, renames it
// over the old one and fsyncs the directory: after a crash or a power cut the file is
// the old state or the new one, never half of either. A temporary file left by a crash
// is removed at the next start.
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_FILE_NAME = 'feed-state.json';
const TEMP_PREFIX = `.${STATE_FILE_NAME}.`;
const TEMP_SUFFIX = '.tmp';

/** --storage.path cannot be used: a start-up error, with the reason. */
export class FeedStorageError extends Error {
  readonly code = 'EGRESS_FEED_STORAGE';
  override readonly name = 'FeedStorageError';
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? String(error) : `${(error as Error).message.split(',')[0] ?? code} (${code})`;
}

export class StateStorage {
  private writes = 0;

  private constructor(readonly directory: string) {}

  /** Creates the directory when needed and checks it can be written; removes a crash's temporary files. */
  static async open(directory: string): Promise<StateStorage> {
    try {
      await mkdir(directory, { recursive: true });
      await access(directory, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new FeedStorageError(`--storage.path: cannot use ${JSON.stringify(directory)}: ${describe(error)}`);
    }
    for (const name of await readdir(directory)) {
      if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) await rm(join(directory, name), { force: true });
    }
    return new StateStorage(directory);
  }

  get file(): string {
    return join(this.directory, STATE_FILE_NAME);
  }

  /** The saved text, or null when there is none. Other read errors throw. */
  async read(): Promise<string | null> {
    try {
      return await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Replaces the file with `text`, atomically and durably. */
  async write(text: string): Promise<void> {
    this.writes += 1;
    const temp = join(this.directory, `${TEMP_PREFIX}${process.pid}.${this.writes}${TEMP_SUFFIX}`);
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    // The rename is durable once the directory's entry is on disk.
    const dir = await open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
