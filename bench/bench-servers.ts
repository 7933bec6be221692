// What every run shares: the servers the bench started (DNS, origin, the quiet listener)
// and where its files go. Its own file: the runs and the window all take it.
import type { ChildLink } from './ipc.js';

export interface BenchServers {
  /** The run directory: configs, logs, profiles. */
  dir: string;
  /** The checkout whose dist/cli.js runs. */
  exporterDir: string;
  dnsPort: number;
  originPort: number;
  quietPort: number;
  caFile: string;
  dns: ChildLink<unknown>;
  origin: ChildLink<unknown>;
  /** The origin's process, whose CPU tells whether it kept up. */
  originPid: number;
  /**
   * The build judges a config's own targets on `tls.requirements` (none unless listed):
   * the bench lists all eight, so every build runs the same handshakes a round (an older
   * build judged every target on all eight, and has no such key).
   */
  listsTlsRequirements: boolean;
}
