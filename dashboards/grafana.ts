// Small typed builders for the parts of Grafana's dashboard JSON that our dashboards
// use (schema 39, Grafana 10+). Each returns plain JSON in Grafana's own key order, so
// the generated files read like an export from Grafana.

/** Every panel and target uses the `datasource` variable: no datasource id is hard-coded. */
export const DS = { type: 'prometheus', uid: '${datasource}' } as const;
export const SCHEMA_VERSION = 39;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

export interface Target {
  datasource: typeof DS;
  refId: string;
  expr: string;
  legendFormat: string;
  format: 'time_series' | 'table';
  instant: boolean;
  range: boolean;
  hide?: boolean;
  editorMode: 'code';
}

export interface Panel {
  type: string;
  title: string;
  description: string;
  datasource: typeof DS;
  targets: Target[];
  [key: string]: Json | Target[] | undefined;
}

export interface Row {
  type: 'row';
  title: string;
  collapsed: false;
  panels: [];
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Placed<T> = { id: number } & T & { gridPos: GridPos };

export interface TargetOptions {
  legend?: string;
  refId?: string;
  format?: Target['format'];
  instant?: boolean;
  hide?: boolean;
}

export function target(expr: string, { legend = '__auto', refId = 'A', format = 'time_series', instant = false, hide = false }: TargetOptions = {}): Target {
  return {
    datasource: DS,
    refId,
    expr,
    legendFormat: legend,
    format,
    instant,
    range: !instant,
    ...(hide ? { hide } : {}),
    editorMode: 'code',
  };
}

/** `[value, color]` steps; `null` is the base step. */
export type Steps = ReadonlyArray<readonly [number | null, string]>;

export const thresholds = (steps: Steps): JsonObject => ({ mode: 'absolute', steps: steps.map(([value, color]) => ({ value, color })) });

/** A value mapping: `[value, text, color]` each. */
export const valueMap = (entries: ReadonlyArray<readonly [string, string, string]>): JsonObject => ({
  type: 'value',
  options: Object.fromEntries(entries.map(([value, text, color], index) => [value, { text, color, index }])),
});

export type Override = JsonObject;

export function panel(type: string, title: string, description: string, targets: Target[], extra: JsonObject = {}): Panel {
  return { type, title, description, datasource: DS, targets, ...extra };
}

export interface TableOptions {
  transformations?: JsonObject[];
  overrides?: Override[];
  defaults?: JsonObject;
  options?: JsonObject;
}

export function table(title: string, description: string, targets: Target[], { transformations = [], overrides = [], defaults = {}, options = {} }: TableOptions = {}): Panel {
  return panel('table', title, description, targets, {
    transformations,
    fieldConfig: {
      defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false }, mappings: [], ...defaults },
      overrides,
    },
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, ...options },
  });
}

export interface TimeseriesOptions {
  unit?: string;
  overrides?: Override[];
  custom?: JsonObject;
  defaults?: JsonObject;
  options?: JsonObject;
}

export function timeseries(title: string, description: string, targets: Target[], { unit = 'short', overrides = [], custom = {}, defaults = {}, options = {} }: TimeseriesOptions = {}): Panel {
  return panel('timeseries', title, description, targets, {
    fieldConfig: {
      defaults: {
        unit,
        color: { mode: 'palette-classic' },
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 0, showPoints: 'never', spanNulls: false, ...custom },
        ...defaults,
      },
      overrides,
    },
    options: { legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' }, ...options },
  });
}

// The latencies are gauges of each round's value (histograms are opt-in): the
// heatmap buckets those samples itself, on a log scale.
export function heatmap(title: string, description: string, expr: string): Panel {
  return panel('heatmap', title, description, [target(expr, { legend: '{{host}} {{path}}' })], {
    options: {
      calculate: true,
      calculation: { yBuckets: { mode: 'count', value: '24', scale: { type: 'log', log: 2 } } },
      cellGap: 1,
      color: { mode: 'scheme', scheme: 'Oranges', scale: 'exponential', exponent: 0.5, fill: 'dark-orange', reverse: false, steps: 64 },
      yAxis: { axisPlacement: 'left', unit: 's', reverse: false },
      rowsFrame: { layout: 'auto' },
      cellValues: { unit: 'short' },
      tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
      legend: { show: true },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
    },
    fieldConfig: { defaults: { custom: { scaleDistribution: { type: 'linear' }, hideFrom: { legend: false, tooltip: false, viz: false } } }, overrides: [] },
  });
}

export interface StatOptions {
  unit?: string;
  steps?: Steps;
  mappings?: JsonObject[];
  colorMode?: 'background' | 'none';
  textMode?: 'auto';
  reduce?: 'lastNotNull';
}

export function stat(title: string, description: string, targets: Target[], { unit = 'short', steps = [[null, 'green']], mappings = [], colorMode = 'background', textMode = 'auto', reduce = 'lastNotNull' }: StatOptions = {}): Panel {
  return panel('stat', title, description, targets, {
    fieldConfig: { defaults: { unit, mappings, thresholds: thresholds(steps), color: { mode: 'thresholds' } }, overrides: [] },
    options: {
      reduceOptions: { calcs: [reduce], fields: '', values: false },
      colorMode,
      graphMode: 'none',
      justifyMode: 'auto',
      textMode,
      orientation: 'auto',
    },
  });
}

export function stateTimeline(
  type: 'state-timeline' | 'status-history',
  title: string,
  description: string,
  targets: Target[],
  { mappings, steps }: { mappings: JsonObject[]; steps: Steps },
): Panel {
  return panel(type, title, description, targets, {
    fieldConfig: {
      defaults: { mappings, thresholds: thresholds(steps), color: { mode: 'thresholds' }, custom: { fillOpacity: 80, lineWidth: 0 } },
      overrides: [],
    },
    options: { showValue: 'never', rowHeight: 0.9, legend: { showLegend: false }, tooltip: { mode: 'single' }, ...(type === 'state-timeline' ? { mergeValues: true } : {}) },
  });
}

export function row(title: string): Row {
  return { type: 'row', title, collapsed: false, panels: [] };
}

/** A panel with its width and height (24 columns wide; 8 high by default), or a row. */
export type LayoutItem = readonly [Panel, number?, number?] | readonly [Row];

/** Numbers the panels from 1 and lays them out left to right, 24 columns wide; a row starts a new line. */
export function layout(items: readonly LayoutItem[]): Array<Placed<Panel> | Placed<Row>> {
  const panels: Array<Placed<Panel> | Placed<Row>> = [];
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  for (const [item, w = 24, h = 8] of items) {
    const id = panels.length + 1;
    if (item.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
      panels.push({ id, ...(item as Row), gridPos: { x: 0, y, w: 24, h: 1 } });
      y += 1;
      continue;
    }
    if (x + w > 24) {
      x = 0;
      y += lineHeight;
      lineHeight = 0;
    }
    panels.push({ id, ...item, gridPos: { x, y, w, h } });
    x += w;
    lineHeight = Math.max(lineHeight, h);
  }
  return panels;
}

export interface QueryVariableOptions {
  multi?: boolean;
  includeAll?: boolean;
  /** What "All" stands for; unset: every option the query returned. */
  allValue?: string | null;
  regex?: string;
  /** 2: hidden, a variable other variables are built from. */
  hide?: 0 | 2;
}

/** A query variable. `query` is `label_values(selector, label)` or `query_result(expr)`. */
export function queryVariable(name: string, label: string, query: string, { multi = true, includeAll = true, allValue = '.*', regex = '', hide = 0 }: QueryVariableOptions = {}): JsonObject {
  return {
    type: 'query',
    name,
    label,
    datasource: DS,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    regex,
    sort: 1,
    multi,
    includeAll,
    ...(includeAll && allValue !== null ? { allValue } : {}),
    current: {},
    options: [],
    hide,
  };
}

export const DATASOURCE_VARIABLE: JsonObject = {
  type: 'datasource',
  name: 'datasource',
  label: 'Data source',
  query: 'prometheus',
  regex: '',
  current: {},
  options: [],
  refresh: 1,
  hide: 0,
  multi: false,
  includeAll: false,
};

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  variables: JsonObject[];
  panels: Array<Placed<Panel> | Placed<Row>>;
}

export function dashboard({ uid, title, description, variables, panels }: DashboardSpec): JsonObject {
  return {
    uid,
    title,
    description,
    tags: ['egress', 'egress-exporter'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    refresh: '1m',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: { list: [] },
    links: [{ type: 'dashboards', title: 'Egress', tags: ['egress'], asDropdown: false, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false }],
    templating: { list: variables },
    panels: panels as unknown as Json[],
  };
}
