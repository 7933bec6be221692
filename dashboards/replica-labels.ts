// Which labels tell the replicas of one vantage point apart, and which tell vantage
// points apart: the dashboards merge the first and keep the second, as the alerts page
// (alerts/README.md, "Which series page, and how they add up").
import { readFileSync } from 'node:fs';
import { loadConfig } from '../alerts/config.js';

/** The alerts generator's input: the dashboards take `replica_labels` from it, so the two cannot drift. */
export const ALERTS_CONFIG_FILE = new URL('../alerts/generator/config.yml', import.meta.url);

/**
 * Labels that tell apart the replicas of one vantage point (an HA pair, /probe scraped
 * by a job of its own beside /metrics): `replica_labels` of alerts/generator/config.yml,
 * `instance, job, pod` as shipped. Every panel but the exporter's own health merges them
 * (`max without`, or `min` where 1 is the good value), so an HA pair reads as one replica.
 */
export const REPLICA_LABELS: readonly string[] = loadConfig(readFileSync(ALERTS_CONFIG_FILE, 'utf8')).replica_labels;

/**
 * Labels that name a vantage point where a panel must say which one it shows: the rows
 * of the status and TLS requirement matrices, the legends (the Kubernetes manifests set
 * `egress_zone`). Tables and counts keep every label that is not a replica label, named
 * here or not; a matrix row has room for these only, and of anything else it shows the
 * worst state.
 */
export const VANTAGE_LABELS: readonly string[] = ['egress_zone'];
