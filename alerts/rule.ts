// One alerting rule as the generator writes it, and the builder each group of rules is given.
import type { AlertName, Severity } from './config.js';

export interface Rule {
  alert: AlertName;
  expr: string;
  for: string;
  /** Prometheus 2.42+: how long the alert keeps firing after its expression stops returning it. */
  keep_firing_for?: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

export type RuleOf = (name: AlertName, spec: { expr: string; summary: string; description: string; severity?: Severity }) => Rule;
