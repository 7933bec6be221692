// A StatefulSet pod is named <statefulset>-<ordinal> (egress-exporter-3): the ordinal is
// its shard, as kube-state-metrics reads it. The downward API gives the name
// (metadata.name, passed as --shard.from-pod-name=$(POD_NAME)).

export class PodNameError extends Error {}

/** The ordinal of a StatefulSet pod's name; a PodNameError naming the value when it has none. */
export function ordinalFromPodName(podName: string): number {
  // Kubernetes leaves `$(POD_NAME)` as it is when the variable is not defined: say so.
  const unset = /\$\((\w+)\)/.exec(podName);
  if (unset !== null) {
    throw new PodNameError(
      `--shard.from-pod-name: ${JSON.stringify(podName)} is not a pod name: is the ${unset[1]} variable set from the downward API (fieldRef metadata.name)?`,
    );
  }
  // StatefulSet ordinals are written without leading zeros.
  const match = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?-(0|[1-9]\d{0,8})$/.exec(podName);
  if (match === null) {
    throw new PodNameError(`--shard.from-pod-name: ${JSON.stringify(podName)} has no ordinal: expected a StatefulSet pod name ending in -N, such as egress-exporter-0`);
  }
  return Number(match[1]);
}
