// The dashboards' variables: the data source, then the exporter (job, instance), then
// what narrows its series (host, path, resolver).
import { F } from '../src/metrics/families.js';
import { DATASOURCE_VARIABLE, queryVariable } from './grafana.js';
import type { JsonObject } from './grafana.js';
import { BUILD_INFO, exp } from './panels.js';

export function variables({ singleHost }: { singleHost: boolean }): JsonObject[] {
  return [
    DATASOURCE_VARIABLE,
    queryVariable('job', 'Job', `label_values(${BUILD_INFO}, job)`),
    queryVariable('instance', 'Instance', `label_values(${BUILD_INFO}{job=~"$job"}, instance)`),
    queryVariable('host', 'Host', `label_values(${F.targetInfo.name}${exp()}, host)`, singleHost ? { multi: false, includeAll: false } : {}),
    queryVariable('path', 'Path', `label_values(${F.success.name}${exp('host=~"$host"')}, path)`),
    queryVariable('resolver', 'Resolver', `label_values(${F.success.name}${exp('host=~"$host"', 'check="dns"')}, resolver)`),
  ];
}
