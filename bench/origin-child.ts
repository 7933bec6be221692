// Child process of the bench: the TLS 1.2/1.3 + HTTP/2 origin every bench host points
// at, in its own process so that its CPU is not counted as the exporter's. It is the
// tests' h2 origin (dual ECDSA + RSA leaves with *.bench.test, EMS, P-256, ALPN h2 and
// http/1.1): every TLS requirement is met. It sends the root CA to the bench.
import { startOrigin } from '../test/fixtures/http-servers.js';
import { getPki } from '../test/fixtures/pki.js';
import { serveBench } from './ipc.js';

export interface OriginChildReady {
  port: number;
  rootCaPem: string;
}
export interface OriginChildTotals {
  accepted: number;
  handshakes: number;
  requests: number;
}

const pki = await getPki();
const origin = await startOrigin('h2');
let requests = 0;

serveBench(
  { port: origin.port, rootCaPem: pki.rootCa } satisfies OriginChildReady,
  {
    totals: (): OriginChildTotals => {
      // The fixture keeps every request; count them and let them go.
      requests += origin.requests.length;
      origin.requests.length = 0;
      return { ...origin.totals(), requests };
    },
  },
  () => origin.close(),
);
