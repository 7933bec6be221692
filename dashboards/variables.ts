// The dashboards' variables: the data source, then the exporter (job, instance), then
// what narrows its series: a target label and its values (from the config's
// `targets[].labels`), the hosts, paths and resolvers. A target label narrows the hosts
// (through the hidden `targets`), and the hosts narrow every panel.
import { F } from '../src/metrics/families.js';
import { DATASOURCE_VARIABLE, queryVariable } from './grafana.js';
import type { JsonObject } from './grafana.js';
import { BUILD_INFO, SELECTED_TARGETS, exp } from './panels.js';

export function variables({ singleHost }: { singleHost: boolean }): JsonObject[] {
  return [
    DATASOURCE_VARIABLE,
    queryVariable('job', 'Job', `label_values(${BUILD_INFO}, job)`),
    queryVariable('instance', 'Instance', `label_values(${BUILD_INFO}{job=~"$job"}, instance)`),
    queryVariable('label', 'Target label', `label_values(${F.targetLabels.name}${exp()}, name)`, { multi: false, includeAll: false }),
    queryVariable('value', 'Value', `label_values(${F.targetLabels.name}${exp('name=~"$label"')}, value)`),
    queryVariable('targets', 'Selected hosts', `query_result(max by (host) (${SELECTED_TARGETS}))`, { regex: '/host="([^"]+)"/', allValue: null, hide: 2 }),
    // "All" is every host listed (no allValue): the hosts the target label selects.
    queryVariable('host', 'Host', `label_values(${F.targetInfo.name}${exp('host=~"$targets"')}, host)`, singleHost ? { multi: false, includeAll: false } : { allValue: null }),
    queryVariable('path', 'Path', `label_values(${F.success.name}${exp('host=~"$host"')}, path)`),
    queryVariable('resolver', 'Resolver', `label_values(${F.success.name}${exp('host=~"$host"', 'check="dns"')}, resolver)`),
  ];
}
