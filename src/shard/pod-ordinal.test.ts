import { describe, expect, it } from 'vitest';
import { ordinalFromPodName } from './pod-ordinal.js';

describe('ordinalFromPodName', () => {
  it("reads a StatefulSet pod's ordinal", () => {
    expect(ordinalFromPodName('egress-exporter-0')).toBe(0);
    expect(ordinalFromPodName('egress-exporter-3')).toBe(3);
    expect(ordinalFromPodName('egress-exporter-zone-a-12')).toBe(12);
    expect(ordinalFromPodName('web.v2-7')).toBe(7);
  });

  it('names the value that has no ordinal', () => {
    expect(() => ordinalFromPodName('egress-exporter')).toThrow(
      '--shard.from-pod-name: "egress-exporter" has no ordinal: expected a StatefulSet pod name ending in -N, such as egress-exporter-0',
    );
    // A Deployment's pod: its suffix is random, not an ordinal.
    expect(() => ordinalFromPodName('egress-exporter-7d4b9c6f5-x2x9q')).toThrow('"egress-exporter-7d4b9c6f5-x2x9q" has no ordinal');
    for (const name of ['', '3', '-3', 'egress-exporter-03', 'egress-exporter--1', 'Egress-1', 'egress-exporter-1234567890']) {
      expect(() => ordinalFromPodName(name), JSON.stringify(name)).toThrow(`${JSON.stringify(name)} has no ordinal`);
    }
  });

  it('says when the downward API variable was not set (Kubernetes leaves $(VAR) as written)', () => {
    expect(() => ordinalFromPodName('$(POD_NAME)')).toThrow(
      '--shard.from-pod-name: "$(POD_NAME)" is not a pod name: is the POD_NAME variable set from the downward API (fieldRef metadata.name)?',
    );
  });
});
