// One round of one target: DNS through every resolver, then over every path (direct,
// or through a proxy) the path checks in their order (path-checks.ts), then the
// judgement across paths and rounds (judge.ts, expectation.ts, dns-judgement.ts). Each check runs in
// the round's runner (a concurrency slot, its deadline). The round returns its report;
// it records nothing itself.
import net from 'node:net';
import { secondsSince } from '../async/clock.js';
import type { Target } from '../model/types.js';
import type { RoundContext } from './context.js';
import { addressesFrom, dnsCheck, resolversOf } from './dns-check.js';
import { judgeDns } from './dns-judgement.js';
import { judgeExpectations } from './expectation.js';
import { dnsRequired, judgeAcrossPaths } from './judge.js';
import { PATH_CHECKS } from './path-checks.js';
import { PathRun } from './path-run.js';
import type { PathCheck } from './path-run.js';
import { pathsFor } from './paths.js';
import type { PathCheckName, PathResults, RoundReport } from './report.js';

export async function runRound(target: Target, ctx: RoundContext): Promise<RoundReport> {
  const startedAtMs = ctx.now();
  const start = process.hrtime.bigint();
  const paths = pathsFor(target, ctx.config, ctx.env);
  const report: RoundReport = { target, startedAtMs, finishedAtMs: startedAtMs, durationSeconds: 0, addresses: {}, dns: [], dnsJudgements: [], paths: paths.map((path) => ({ path })) };
  const finish = (): RoundReport => {
    report.durationSeconds = secondsSince(start);
    report.finishedAtMs = ctx.now();
    return report;
  };
  const stopped = ctx.runner.signal;

  // An IP literal needs no lookup. A name gets one whenever the direct path is
  // probed or the dns check is wanted: through a proxy, the proxy resolves it.
  const literal = net.isIP(target.host);
  const direct = paths.some((p) => p.proxy === null);
  if (literal !== 0) {
    report.addresses = { [literal === 4 ? 'v4' : 'v6']: [target.host] };
  } else if (direct || target.checks.includes('dns')) {
    const answers = await Promise.all(resolversOf(ctx.config).map((resolver) => dnsCheck(target, resolver, ctx)));
    report.dns = answers.filter((r) => r !== undefined);
    report.addresses = addressesFrom(report.dns);
  }
  if (stopped.aborted) return finish();

  const previous = ctx.previous(target);
  await Promise.all(report.paths.map((entry) => runPath(new PathRun(target, ctx, report, entry, previous?.paths.find((p) => p.path.name === entry.path.name)))));
  if (stopped.aborted) return finish();
  finish();
  judgeAcrossPaths(report);
  // Its paths that must work tell others whether a path reaches anything; those that must stay blocked are judged.
  ctx.pathHealth.record(report);
  judgeExpectations(report, ctx);
  judgeDns(report, previous, ctx.config);
  if (target.checks.includes('dns')) report.dnsRequired = dnsRequired(report, ctx.config.dns.required);
  return report;
}

/** The path's checks in their order; a stopped round stops here. */
async function runPath(p: PathRun): Promise<void> {
  for (const check of PATH_CHECKS) {
    if (!check.wanted(p.target)) continue;
    await runCheck(check, p);
    if (p.ctx.runner.signal.aborted) return;
  }
}

async function runCheck<K extends PathCheckName>(check: PathCheck<K>, p: PathRun): Promise<void> {
  const result = await check.run(p);
  const results: Partial<PathResults> = p.entry;
  if (result !== undefined) results[check.name] = result;
}
