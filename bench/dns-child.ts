// Child process of the bench: the DNS server (hostN.bench.test and the quiet hosts,
// all 127.0.0.1) and the quiet hosts' own TCP listener, which no other target uses.
// Usage (forked by bench/run.ts): dns-child.ts HOSTS QUIET_NAMES_COMMA_SEPARATED
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startDnsServer } from '../test/fixtures/dns-server.js';
import type { DnsZoneEntry } from '../test/fixtures/dns-server.js';
import { serveBench } from './ipc.js';
import { benchHostName } from './names.js';

export interface DnsChildReady {
  dnsPort: number;
  quietPort: number;
}
export interface DnsChildTotals {
  queries: number;
  quietAccepted: number;
}

const hosts = Number(process.argv[2]);
const quietNames = (process.argv[3] ?? '').split(',').filter((name) => name !== '');
const zone: Record<string, DnsZoneEntry> = {};
for (let i = 0; i < hosts; i += 1) zone[benchHostName(i)] = { a: ['127.0.0.1'], ttl: 60 };
for (const name of quietNames) zone[name] = { a: ['127.0.0.1'], ttl: 60 };
const dns = await startDnsServer(zone);

let queries = 0;
let quietAccepted = 0;
const quiet = createServer((socket) => {
  quietAccepted += 1;
  socket.on('error', () => {});
  socket.resume();
});
await new Promise<void>((resolve) => quiet.listen(0, '127.0.0.1', resolve));

serveBench(
  { dnsPort: dns.address.port, quietPort: (quiet.address() as AddressInfo).port } satisfies DnsChildReady,
  {
    totals: (): DnsChildTotals => {
      // The fixture keeps every query; count them and let them go.
      queries += dns.queries.length;
      dns.queries.length = 0;
      return { queries, quietAccepted };
    },
  },
  async () => {
    await dns.close();
    quiet.close();
  },
);
