// Command line: flags in the Prometheus exporter style, then the daemon.
import { oneOf, parseCommandLine, UsageError } from './commands/flags.js';
import { ConfigError, defaultConfig, loadConfigFile } from './config/load.js';
import { renderConfig, renderEffectiveTargets } from './config/render.js';
import { resolveTargets } from './config/targets.js';
import type { Config } from './config/types.js';
import { runCatalogCommand } from './commands/catalog.js';
import { runCheckCommand } from './commands/check.js';
import { configWarnings } from './commands/config-warnings.js';
import { startExporter } from './exporter.js';
import { ownedTargets } from './shard/assignment.js';
import type { Shard } from './shard/assignment.js';
import { shardFromFlags } from './shard/shard-flags.js';
import { FeedStorageError, StateStorage } from './feed/state-storage.js';
import { loadWebConfig, WebConfigError } from './server/web-config.js';
import type { WebConfig } from './server/web-config.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS } from './logging/logger.js';
import type { LogFormat, LogLevel } from './logging/logger.js';
import { describeListenError, formatListenAddress, parseListenAddress } from './server/listen-address.js';
import { counted } from './plural.js';
import { REVISION, VERSION } from './version.js';

/** SIGTERM/SIGINT must end the process within this, whatever is in flight. */
const SHUTDOWN_DEADLINE_MS = 4500;

/** The words that may come first, before any flag. */
const COMMANDS = ['check', 'catalog'] as const;

const USAGE = `usage: egress-exporter [flags]
       egress-exporter check [--config.file=PATH] [--output=table|json] [--host=HOST[:PORT] ...]
       egress-exporter catalog [--catalog NAME] [--format list|json|csv] [--diff OTHER]

Probes the hosts of a vendor's network requirements (DNS, TCP, TLS, ...) on a
schedule and serves the results to Prometheus on /metrics.

Flags:
  --config.file=PATH          YAML config file (default: none, the built-in Chainguard catalog)
  --config.check              validate the config, print the effective config, and exit (0 ok, 1 error)
  --web.listen-address=ADDR   address to serve on (default ":9739")
  --web.config.file=PATH      TLS and basic auth for the endpoints (exporter-toolkit format)
  --storage.path=DIR          where the address feed (/addresses) keeps its state across restarts
                              (default: none, in memory only: the feed starts empty after a restart)
  --log.level=LEVEL           ${LOG_LEVELS.join(', ')} (default "info")
  --log.format=FORMAT         ${LOG_FORMATS.join(', ')} (default "json")
  --shard=N                   probe only shard N's share of the targets (0 to --total-shards minus 1);
                              check and /probe still take every target
  --total-shards=N            how many shards split the targets (default 1: this replica probes all)
  --shard.from-pod-name=NAME  the shard from a StatefulSet pod's name (egress-exporter-2: shard 2),
                              e.g. --shard.from-pod-name=$(POD_NAME) from the downward API
  --version                   print the version and exit
  -h, --help                  print this help and exit
`;


interface Flags {
  configFile: string | undefined;
  webConfigFile: string | undefined;
  storagePath: string | undefined;
  configCheck: boolean;
  listenAddress: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** This replica's share of the targets (docs/sharding.md); null: all of them. */
  shard: Shard | null;
  help: boolean;
  version: boolean;
}

export function parseFlags(argv: string[]): Flags {
  const v = parseCommandLine(argv, {
    'config.file': { type: 'string' },
    'config.check': { type: 'boolean', default: false },
    'web.listen-address': { type: 'string', default: ':9739' },
    'web.config.file': { type: 'string' },
    'storage.path': { type: 'string' },
    'log.level': { type: 'string', default: 'info' },
    'log.format': { type: 'string', default: 'json' },
    shard: { type: 'string' },
    'total-shards': { type: 'string' },
    'shard.from-pod-name': { type: 'string' },
    version: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  }, COMMANDS);
  if (v['storage.path'] === '') throw new UsageError('--storage.path: expected a directory, got ""');
  return {
    configFile: v['config.file'],
    webConfigFile: v['web.config.file'],
    storagePath: v['storage.path'],
    configCheck: v['config.check'],
    listenAddress: v['web.listen-address'],
    logLevel: oneOf('log.level', v['log.level'], LOG_LEVELS),
    logFormat: oneOf('log.format', v['log.format'], LOG_FORMATS),
    shard: shardFromFlags({ shard: v.shard, totalShards: v['total-shards'], fromPodName: v['shard.from-pod-name'] }),
    help: v.help,
    version: v.version,
  };
}

async function loadConfig(file: string | undefined): Promise<Config> {
  return file === undefined ? defaultConfig() : loadConfigFile(file);
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'catalog') return runCatalogCommand(argv.slice(1), process.stdout, process.stderr);
  if (argv[0] === 'check') return runCheckCommand(argv.slice(1), { out: process.stdout, err: process.stderr });
  let flags: Flags;
  try {
    flags = parseFlags(argv);
    parseListenAddress(flags.listenAddress);
  } catch (error) {
    process.stderr.write(`egress-exporter: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`egress-exporter ${VERSION} (revision ${REVISION}, node ${process.version})\n`);
    return 0;
  }

  let config: Config;
  try {
    config = await loadConfig(flags.configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`egress-exporter: invalid config:\n${error.message}\n`);
    return 1;
  }
  let web: WebConfig | null = null;
  if (flags.webConfigFile !== undefined) {
    try {
      web = await loadWebConfig(flags.webConfigFile);
    } catch (error) {
      if (!(error instanceof WebConfigError)) throw error;
      process.stderr.write(`egress-exporter: invalid web config:\n${error.message}\n`);
      return 1;
    }
  }
  if (flags.configCheck) {
    const targets = resolveTargets(config);
    process.stdout.write(renderConfig(config, { redactSecrets: true }) + renderEffectiveTargets(targets));
    // Files read on every round are not refused when missing (they may be mounted later): said here.
    for (const warning of await configWarnings(config)) process.stderr.write(`warning: ${warning}\n`);
    const share = flags.shard === null ? '' : ` (shard ${flags.shard.ordinal} of ${flags.shard.total} probes ${ownedTargets(targets, flags.shard).length})`;
    process.stderr.write(`config OK: ${flags.configFile ?? '(no file: built-in defaults)'}, ${counted(targets.length, 'target')}${share}\n`);
    return 0;
  }

  let storage: StateStorage | null = null;
  if (flags.storagePath !== undefined) {
    try {
      storage = await StateStorage.open(flags.storagePath);
    } catch (error) {
      if (!(error instanceof FeedStorageError)) throw error;
      process.stderr.write(`egress-exporter: ${error.message}\n`);
      return 1;
    }
  }

  const logger = createLogger(flags.logLevel, flags.logFormat);
  // The daemon must keep serving: a stray rejection is a bug to log, not a reason to die.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection: this is a bug'));
  process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception: this is a bug'));

  const listen = parseListenAddress(flags.listenAddress);
  // A port or host that cannot be served on is the operator's to fix: one line, no stack.
  let cannotServe: unknown;
  const starting = startExporter({ config, configFile: flags.configFile, listen, logger, web, shard: flags.shard, storage }).catch((error: unknown) => {
    cannotServe = error;
    return undefined;
  });
  // In place before the exporter says it listens: a signal sent at that moment must not
  // meet the default action (SIGHUP's kills). Either one waits for the start to finish.
  const stopped = new Promise<number>((resolve) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      setTimeout(() => resolve(0), SHUTDOWN_DEADLINE_MS).unref();
      void starting.then((running) => running?.stop()).then(() => resolve(0));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  process.on('SIGHUP', () => {
    logger.info({ file: flags.configFile }, 'SIGHUP: reloading the config');
    void starting.then((running) => running?.reload());
  });
  if ((await starting) === undefined) {
    const why = describeListenError(cannotServe);
    if (why === undefined) throw cannotServe;
    process.stderr.write(`egress-exporter: cannot serve on ${formatListenAddress(listen)}: ${why}\n`);
    return 1;
  }
  return stopped;
}

