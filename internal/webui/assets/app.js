// armlet's web UI: views drawn from the admin API's data (/ui/api/...).
// Plain DOM code, no framework; every view is re-rendered from `data`.
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const POLL_MS = 2000; // revision polling
const FULL_MS = 30000; // full re-read, for time-driven changes
const views = ['network', 'workspaces', 'exposure', 'access', 'clock'];
const data = { resources: [], publicArmDisabled: false, flows: [], endpoints: [], exposure: null, access: null, clock: null, fetchedAt: 0, now: null };
let revision = null;
let lastFull = 0;
let stopped = false;

// h builds an element: h('td', {class: 'num'}, 'text', child, [more]).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, v);
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}
function table(caption, head, rows) {
  return h('table', {}, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => (c instanceof Node && c.tagName === 'TD') ? c : h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: head.length }, 'none'))));
}
const num = (n) => h('td', { class: 'num' }, String(n));
// shortID is a resource ID without its subscription: "rg / provider/type/name".
function shortID(id) {
  const m = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)(?:\/providers\/(.*))?$/i.exec(id || '');
  return m ? slashy(m[1] + (m[2] ? ' / ' + m[2] : '')) : slashy(id);
}
// slashy is an ID or operation that may wrap after its slashes.
const slashy = (str) => (str || '').split('/').flatMap((part, i) => i ? ['/', h('wbr'), part] : [part]);

async function api(path, init) {
  const resp = await fetch('/ui/api/' + path, Object.assign({ credentials: 'same-origin', headers: { Accept: 'application/json' } }, init));
  if (resp.status === 401) {
    stopped = true;
    document.getElementById('main').replaceChildren(h('p', {}, 'Your session has ended: open a new login link (armlet ui prints one).'));
    throw new Error('not signed in');
  }
  const body = await resp.json();
  if (!resp.ok) throw new Error((body.error && body.error.message) || resp.statusText);
  return body;
}

const lower = (x) => (x || '').toLowerCase();
const nameOf = (id) => (id || '').split('/').pop();
const typeOf = (r) => lower(r.type);
const byType = (t) => data.resources.filter((r) => typeOf(r) === t);
const props = (r) => (r.body && r.body.properties) || {};
function formVal(form, name) { const el = document.getElementById(form).elements[name]; return el.type === 'checkbox' ? el.checked : el.value; }
function q(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) u.set(k, v);
  const str = u.toString();
  return str ? '?' + str : '';
}
// armletNow is the armlet clock now, from the last read and the time since.
function armletNow() { return data.now ? new Date(data.now.getTime() + (Date.now() - data.fetchedAt)) : new Date(); }
function fmtDuration(ms) {
  if (ms <= 0) return '0s';
  let sec = Math.ceil(ms / 1000);
  const d = Math.floor(sec / 86400); sec %= 86400;
  const hh = Math.floor(sec / 3600); sec %= 3600;
  const m = Math.floor(sec / 60); sec %= 60;
  return [d && d + 'd', hh && hh + 'h', m && m + 'm', sec + 's'].filter(Boolean).join(' ');
}
const fmtTime = (t) => t ? new Date(t).toISOString().replace('.000Z', 'Z') : '';

// load reads every view's data.
async function load() {
  const [res, flows, eps, exposure, access, clock] = await Promise.all([
    api('ui/resources'),
    api('flows' + q({ since: formVal('network-filters', 'since') })),
    api('network/endpoints'),
    api('reports/exposure' + q({ since: formVal('exposure-filters', 'since'), principal: formVal('exposure-filters', 'principal').trim() })),
    api('reports/access' + q({ since: formVal('access-filters', 'since'), principal: formVal('access-filters', 'principal').trim(), deniedOnly: formVal('access-filters', 'deniedOnly') ? 'true' : '' })),
    api('clock'),
  ]);
  data.resources = res.value || [];
  data.publicArmDisabled = !!res.publicArmDisabled;
  data.flows = flows.value || [];
  data.endpoints = eps.value || [];
  data.exposure = exposure;
  data.access = access;
  rememberPrincipals(access.principals);
  data.clock = clock;
  data.now = new Date(clock.now);
  data.fetchedAt = Date.now();
  lastFull = Date.now();
  render();
  document.getElementById('status').textContent = 'Updated ' + new Date().toLocaleTimeString() + ' · armlet clock ' + fmtTime(clock.now);
}

function current() {
  const v = location.hash.replace('#', '');
  return views.includes(v) ? v : 'network';
}
function render() {
  const v = current();
  for (const name of views) {
    document.getElementById('view-' + name).hidden = name !== v;
    const a = document.querySelector('nav a[data-view="' + name + '"]');
    if (name === v) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  ({ network: renderNetwork, workspaces: renderWorkspaces, exposure: renderExposure, access: renderAccess, clock: renderClock })[v]();
}

// ---- Network ----

// targetKinds are the resource types a private endpoint or a call reaches.
const targetKinds = {
  'microsoft.machinelearningservices/workspaces': 'workspace',
  'microsoft.machinelearningservices/registries': 'ML registry',
  'microsoft.storage/storageaccounts': 'storage account',
  'microsoft.keyvault/vaults': 'key vault',
  'microsoft.containerregistry/registries': 'container registry',
  'microsoft.authorization/resourcemanagementprivatelinks': 'Resource Management Private Link',
};
// topID is the top-level resource of a resource ID (its first provider
// type and name).
function topID(id) {
  const m = /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+)/i.exec(id || '');
  return m ? m[1] : '';
}
function peConnections(pe) {
  const p = props(pe);
  return [...(p.privateLinkServiceConnections || []), ...(p.manualPrivateLinkServiceConnections || [])];
}
function peInfo(pe) {
  const conns = peConnections(pe);
  const c = conns[0] || {};
  const cp = c.properties || {};
  const ep = data.endpoints.find((e) => lower(e.privateEndpointId) === lower(pe.id));
  let ip = ep ? ep.privateIPAddress : '';
  if (!ip) for (const d of props(pe).customDnsConfigs || []) if (d.ipAddresses && d.ipAddresses.length) { ip = d.ipAddresses[0]; break; }
  return {
    target: cp.privateLinkServiceId || (ep && ep.targetResourceId) || '',
    group: (cp.groupIds || [])[0] || (ep && ep.groupId) || '',
    state: (cp.privateLinkServiceConnectionState || {}).status || (props(pe).manualPrivateLinkServiceConnections ? 'Pending' : ''),
    ip: ip || 'no private IP',
    subnet: (props(pe).subnet || {}).id || '',
  };
}

// publicAccess is a target's publicNetworkAccess in words, and whether its
// firewall (networkAcls, storage accounts and key vaults) denies by
// default: a Resource
// Management Private Link has none of its own (public ARM is closed or
// open for the whole tenant, by a private link association).
function publicAccess(r) {
  if (typeOf(r) === 'microsoft.authorization/resourcemanagementprivatelinks') return data.publicArmDisabled ? 'public ARM closed' : 'public ARM open';
  const p = props(r);
  const firewall = p.networkAcls && lower(p.networkAcls.defaultAction) === 'deny' ? ' · firewall denies by default' : '';
  return 'public ' + (p.publicNetworkAccess || 'Enabled (default)') + firewall;
}

// networkModel is the drawing's nodes and edges.
function networkModel() {
  const vnets = byType('microsoft.network/virtualnetworks').map((v) => {
    const subs = (props(v).subnets || []).map((sn) => ({ id: sn.id || v.id + '/subnets/' + sn.name, name: sn.name, range: (sn.properties || {}).addressPrefix || ((sn.properties || {}).addressPrefixes || []).join(', ') }));
    for (const sn of byType('microsoft.network/virtualnetworks/subnets')) {
      if (lower(sn.id).startsWith(lower(v.id) + '/') && !subs.some((x) => lower(x.id) === lower(sn.id))) subs.push({ id: sn.id, name: nameOf(sn.id), range: props(sn).addressPrefix || '' });
    }
    return { id: v.id, name: nameOf(v.id), ranges: ((props(v).addressSpace || {}).addressPrefixes || []).join(', '), subnets: subs };
  });
  const pes = byType('microsoft.network/privateendpoints').map((pe) => Object.assign({ id: pe.id, name: nameOf(pe.id) }, peInfo(pe)));
  const zones = byType('microsoft.network/privatednszones').map((z) => ({
    id: z.id, name: nameOf(z.id),
    links: byType('microsoft.network/privatednszones/virtualnetworklinks').filter((l) => lower(l.id).startsWith(lower(z.id) + '/')).map((l) => (props(l).virtualNetwork || {}).id || ''),
    records: byType('microsoft.network/privatednszones/a').filter((a) => lower(a.id).startsWith(lower(z.id) + '/'))
      .map((a) => nameOf(a.id) + ' → ' + (props(a).aRecords || []).map((r) => r.ipv4Address).join(', ')),
  }));
  const targets = data.resources.filter((r) => targetKinds[typeOf(r)]).map((r) => ({ id: r.id, name: nameOf(r.id), kind: targetKinds[typeOf(r)], access: publicAccess(r) }));
  const known = new Set(targets.map((t) => lower(t.id)));
  // Traffic: each flow is an edge from the public internet or from its
  // private endpoint to the top-level resource it reached.
  const edges = new Map();
  for (const f of data.flows) {
    const priv = !!f.privateEndpointId;
    let to = lower(f.workspace || f.registry || topID(f.resourceId));
    if (priv) {
      const pe = pes.find((p) => lower(p.id) === lower(f.privateEndpointId));
      if (pe && pe.target) to = lower(pe.target);
    }
    if (!known.has(to)) to = 'arm';
    const from = priv ? lower(f.privateEndpointId) : 'public';
    const key = from + '>' + to;
    const e = edges.get(key) || { from, to, publicCount: 0, privateCount: 0, refused: 0, classes: new Set() };
    if (priv) e.privateCount++; else e.publicCount++;
    if (f.status === 401 || f.status === 403) e.refused++;
    e.classes.add(f.class);
    edges.set(key, e);
  }
  // Private endpoints reach their targets even without traffic.
  for (const pe of pes) {
    const to = known.has(lower(pe.target)) ? lower(pe.target) : 'arm';
    const key = lower(pe.id) + '>' + to;
    if (!edges.has(key)) edges.set(key, { from: lower(pe.id), to, publicCount: 0, privateCount: 0, refused: 0, classes: new Set() });
  }
  return { vnets, pes, zones, targets, edges: [...edges.values()] };
}

function label(id, m) {
  if (id === 'public') return 'public internet / public ARM';
  if (id === 'arm') return 'ARM (other resources)';
  const n = [...m.targets, ...m.pes].find((x) => lower(x.id) === id);
  return n ? n.name : nameOf(id);
}

function renderNetwork() {
  const m = networkModel();
  // Order to keep lines short and uncrossed: endpoints by their subnet's
  // place, targets by the mean place of the endpoints that reach them.
  const natural = (x, y) => x.localeCompare(y, undefined, { numeric: true });
  const subnetAt = new Map();
  m.vnets.forEach((v) => v.subnets.forEach((sn) => subnetAt.set(lower(sn.id), subnetAt.size)));
  const at = (pe) => subnetAt.has(lower(pe.subnet)) ? subnetAt.get(lower(pe.subnet)) : Infinity;
  m.pes.sort((x, y) => at(x) - at(y) || natural(x.name, y.name));
  const score = new Map();
  m.pes.forEach((pe, i) => { const k = lower(pe.target); const v = score.get(k) || [0, 0]; score.set(k, [v[0] + i, v[1] + 1]); });
  const rank = (t) => { const v = score.get(lower(t.id)); return v ? v[0] / v[1] : Infinity; };
  m.targets.sort((x, y) => (rank(x) - rank(y)) || natural(x.kind, y.kind) || natural(x.name, y.name));
  const W = 1180, colA = 16, colB = 400, colC = 864, wA = 320, wB = 280, wC = 300;
  const pos = new Map(); // lower id -> {x, y, w, h} box, for edges
  const g = [];
  let yA = 16;
  for (const v of m.vnets) {
    const hgt = 44 + v.subnets.length * 40 + 8;
    g.push(s('rect', { class: 'vnet', x: colA, y: yA, width: wA, height: hgt, rx: 6 }),
      s('text', { x: colA + 10, y: yA + 18, class: 'title' }, 'VNet ' + v.name),
      s('text', { x: colA + 10, y: yA + 34, class: 'sub' }, v.ranges));
    let ys = yA + 44;
    for (const sn of v.subnets) {
      g.push(s('rect', { class: 'subnet', x: colA + 12, y: ys, width: wA - 24, height: 34, rx: 4 }),
        s('text', { x: colA + 22, y: ys + 14 }, 'subnet ' + sn.name),
        s('text', { x: colA + 22, y: ys + 28, class: 'sub' }, sn.range));
      pos.set(lower(sn.id), { x: colA + 12, y: ys, w: wA - 24, h: 34 });
      ys += 40;
    }
    pos.set(lower(v.id), { x: colA, y: yA, w: wA, h: hgt });
    yA += hgt + 16;
  }
  for (const z of m.zones) {
    g.push(s('rect', { class: 'zone', x: colA, y: yA, width: wA, height: 40, rx: 6 }),
      s('text', { x: colA + 10, y: yA + 17, class: 'title' }, 'DNS zone ' + z.name),
      s('text', { x: colA + 10, y: yA + 33, class: 'sub' }, z.links.length ? 'linked to ' + z.links.map(nameOf).join(', ') : 'linked to no VNet'));
    pos.set(lower(z.id), { x: colA, y: yA, w: wA, h: 40 });
    yA += 52;
  }
  let yB = 16;
  g.push(s('rect', { class: 'internet', x: colB, y: yB, width: wB, height: 48, rx: 24 }),
    s('text', { x: colB + 20, y: yB + 20, class: 'title' }, 'Public internet / public ARM'),
    s('text', { x: colB + 20, y: yB + 36, class: 'sub' }, data.publicArmDisabled ? 'public ARM closed (private link)' : 'calls that crossed public networks'));
  pos.set('public', { x: colB, y: yB, w: wB, h: 48 });
  yB += 72;
  for (const pe of m.pes) {
    g.push(s('rect', { class: 'pe', x: colB, y: yB, width: wB, height: 56, rx: 6 }),
      s('text', { x: colB + 10, y: yB + 17, class: 'title' }, 'Private endpoint ' + pe.name),
      s('text', { x: colB + 10, y: yB + 33 }, 'IP ' + pe.ip + (pe.group ? ' · ' + pe.group : '')),
      s('text', { x: colB + 10, y: yB + 49, class: 'sub' }, 'connection ' + (pe.state || 'unknown')));
    pos.set(lower(pe.id), { x: colB, y: yB, w: wB, h: 56 });
    yB += 72;
  }
  let yC = 16;
  const targets = [...m.targets];
  if (m.edges.some((e) => e.to === 'arm')) targets.push({ id: 'arm', name: 'ARM (other resources)', kind: 'resource groups, subscriptions, others' });
  for (const t of targets) {
    const hgt = t.access ? 56 : 44;
    g.push(s('rect', { class: 'node', x: colC, y: yC, width: wC, height: hgt, rx: 6 }),
      s('text', { x: colC + 10, y: yC + 18, class: 'title' }, t.name),
      s('text', { x: colC + 10, y: yC + 34, class: 'sub' }, t.kind),
      t.access ? s('text', { x: colC + 10, y: yC + 49, class: 'sub' }, t.access) : null);
    pos.set(lower(t.id), { x: colC, y: yC, w: wC, h: hgt });
    yC += hgt + 16;
  }
  const H = Math.max(yA, yB, yC) + 16;
  const lines = [];
  const mid = (b) => b.y + b.h / 2;
  // Membership (subnet to endpoint) and DNS links (zone to VNet).
  for (const pe of m.pes) {
    const a = pos.get(lower(pe.subnet)), b = pos.get(lower(pe.id));
    if (a && b) lines.push(s('path', { class: 'member', d: `M${a.x + a.w} ${mid(a)} C${a.x + a.w + 30} ${mid(a)} ${b.x - 30} ${mid(b)} ${b.x} ${mid(b)}` }));
  }
  for (const z of m.zones) {
    const a = pos.get(lower(z.id));
    for (const l of z.links) {
      const b = pos.get(lower(l));
      if (a && b) lines.push(s('path', { class: 'link', d: `M${a.x + 4} ${mid(a)} C${a.x - 12} ${mid(a)} ${b.x - 12} ${mid(b)} ${b.x + 4} ${mid(b)}` }));
    }
  }
  const incoming = new Map(); // target -> labels placed at its end so far
  const labels = []; // drawn over every line, so that none crosses a label
  m.edges.forEach((e) => {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) return;
    const cls = e.publicCount ? 'e-public' : e.privateCount ? 'e-private' : 'e-idle';
    const y1 = mid(a), y2 = mid(b), x1 = a.x + a.w, x2 = b.x - 6;
    lines.push(s('path', { class: 'edge ' + cls, d: `M${x1} ${y1} C${x1 + 40} ${y1} ${x2 - 40} ${y2} ${x2} ${y2}`, 'marker-end': 'url(#arrow-' + cls + ')' }));
    const parts = [];
    if (e.publicCount) parts.push(e.publicCount + ' public');
    if (e.privateCount) parts.push(e.privateCount + ' private');
    if (e.refused) parts.push('✕ ' + e.refused + ' refused');
    if (!parts.length) return;
    // Labels stack at the arrow's end, where edges into one target meet.
    const k = incoming.get(e.to) || 0;
    incoming.set(e.to, k + 1);
    labels.push(s('text', { class: 'elabel ' + cls, 'text-anchor': 'end', x: x2 - 10, y: y2 - 6 - 14 * k }, parts.join(' · ')));
  });
  const defs = s('defs', {}, ['e-public', 'e-private', 'e-idle'].map((c) => s('marker', { id: 'arrow-' + c, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    s('path', { d: 'M0 0 L10 5 L0 10 z', class: c, fill: c === 'e-public' ? '#b3261e' : c === 'e-private' ? '#1b6e3a' : '#aaa' }))));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-labelledby': 'net-title net-desc' },
    s('title', { id: 'net-title' }, 'Network drawing'),
    s('desc', { id: 'net-desc' }, `${m.vnets.length} virtual networks, ${m.pes.length} private endpoints, ${m.zones.length} private DNS zones, ${m.targets.length} targets; the table below lists the same edges.`),
    defs, lines, labels, g);
  // The table in reading order: public edges first, then by endpoint name.
  const edgeOrder = (e) => (e.from === 'public' ? '0 ' : '1 ') + label(e.from, m) + ' ' + label(e.to, m);
  const rows = [...m.edges].sort((x, y) => natural(edgeOrder(x), edgeOrder(y))).map((e) => [label(e.from, m), label(e.to, m),
    num(e.publicCount), num(e.privateCount), num(e.refused), [...e.classes].join(', ') || 'no traffic']);
  const peRows = m.pes.map((pe) => [pe.name, pe.ip, pe.state || 'unknown', pe.group, nameOf(pe.subnet), nameOf(pe.target)]);
  const zoneRows = m.zones.map((z) => [z.name, z.links.map(nameOf).join(', ') || 'none', z.records.length ? h('ul', {}, z.records.map((r) => h('li', {}, r))) : 'none']);
  const vnetRows = m.vnets.flatMap((v) => v.subnets.length ? v.subnets.map((sn) => [v.name, v.ranges, sn.name, sn.range]) : [[v.name, v.ranges, '', '']]);
  const targetRows = m.targets.map((t) => [t.name, t.kind, t.access]);
  const closing = byType('microsoft.authorization/privatelinkassociations').filter((a) => props(a).publicNetworkAccess === 'Disabled');
  document.getElementById('network-body').replaceChildren(
    h('p', { id: 'public-arm' }, h('strong', {}, 'Public ARM: '), data.publicArmDisabled
      ? ['closed to public networks by private link association ', closing.map((a, i) => [i ? ', ' : '', h('code', { title: a.id }, nameOf(a.id)),
        ' (to ', nameOf(props(a).privateLink), ')']), '; ARM calls must go through a private endpoint to a Resource Management Private Link.']
      : 'open to public networks (no private link association with publicNetworkAccess Disabled).'),
    h('p', { class: 'muted' }, 'Legend: ', h('span', { class: 'public' }, '– – public calls'), ' · ', h('span', { class: 'private' }, '—— private calls'),
      ' · ', h('span', { class: 'refused' }, '✕ refused (401/403)'), ' · dotted: endpoint in its subnet · dashed purple: DNS zone linked to a VNet'),
    h('figure', {}, h('div', { class: 'drawing', tabindex: '0' }, svg),
      h('figcaption', { class: 'muted' }, 'The drawing as text: the tables below.')),
    table('Edges and their traffic', ['From', 'To', 'Public calls', 'Private calls', 'Refused', 'Classes'], rows),
    table('Private endpoints', ['Endpoint', 'Private IP', 'Connection state', 'Group', 'Subnet', 'Target'], peRows),
    table('Virtual networks and subnets', ['VNet', 'Address space', 'Subnet', 'Range'], vnetRows),
    table('Private DNS zones', ['Zone', 'Linked VNets', 'A records'], zoneRows),
    table('Targets and their public access', ['Target', 'Kind', 'Public access'], targetRows));
}

// ---- Workspaces ----

// ruleDestination is an outbound rule's destination in words: an FQDN, a
// resource and its sub-resource, or a service tag with its ports.
function ruleDestination(d) {
  if (d === undefined || d === null) return '';
  if (typeof d === 'string') return d;
  if (d.serviceResourceId) return h('span', { title: d.serviceResourceId }, nameOf(d.serviceResourceId) + (d.subresourceTarget ? ' (' + d.subresourceTarget + ')' : ''));
  if (d.serviceTag) return d.serviceTag + [d.protocol, d.portRanges].filter(Boolean).map((x) => ' ' + x).join('');
  return JSON.stringify(d);
}

function renderWorkspaces() {
  const wss = byType('microsoft.machinelearningservices/workspaces');
  const out = wss.map((w) => {
    const p = props(w);
    const d = w.derived || {};
    const mn = p.managedNetwork || {};
    const rules = Object.entries(mn.outboundRules || {}).sort().map(([name, r]) => [name, r.type || '', r.category || '',
      ruleDestination(r.destination), r.status || '']);
    const prefix = lower(w.id) + '/';
    const children = data.resources.filter((r) => lower(r.id).startsWith(prefix));
    const conns = children.filter((r) => typeOf(r).endsWith('/privateendpointconnections'));
    const connRows = (conns.length ? conns.map((c) => props(c)) : (p.privateEndpointConnections || []).map((c) => c.properties || {}))
      .map((c, i) => [nameOf((c.privateEndpoint || {}).id) || 'connection ' + (i + 1), (c.privateLinkServiceConnectionState || {}).status || '', h('span', { class: 'id' }, slashy((c.privateEndpoint || {}).id))]);
    const counts = {};
    for (const c of children) if (!typeOf(c).endsWith('/privateendpointconnections')) { const t = c.type.replace(/^Microsoft\.MachineLearningServices\/workspaces\//i, ''); counts[t] = (counts[t] || 0) + 1; }
    const legacy = [h('strong', {}, d.effectiveV1LegacyMode ? 'true' : 'false')];
    if (d.v1LegacyModePropagatesAt) {
      legacy.push(' ', h('span', { class: 'countdown', 'data-until': d.v1LegacyModePropagatesAt },
        'changing to false: ', h('span', { class: 'left' }, fmtDuration(new Date(d.v1LegacyModePropagatesAt) - armletNow())), ' left'));
    }
    return h('article', { 'aria-labelledby': 'ws-' + w.id.replace(/[^A-Za-z0-9]/g, '-') },
      h('h3', { id: 'ws-' + w.id.replace(/[^A-Za-z0-9]/g, '-') }, 'Workspace ' + nameOf(w.id)),
      h('p', { class: 'id' }, w.id),
      h('dl', { class: 'props' },
        h('dt', {}, 'Effective v1LegacyMode'), h('dd', {}, legacy),
        h('dt', {}, 'publicNetworkAccess'), h('dd', {}, p.publicNetworkAccess || 'Enabled (not set)'),
        h('dt', {}, 'Managed network isolation'), h('dd', {}, mn.isolationMode || 'Disabled (not set)'),
        h('dt', {}, 'Kind'), h('dd', {}, w.body.kind || 'Default')),
      table('Outbound rules of ' + nameOf(w.id), ['Rule', 'Type', 'Category', 'Destination', 'Status'], rules),
      table('Private endpoint connections of ' + nameOf(w.id), ['Endpoint', 'State', 'Endpoint id'], connRows),
      table('Child resources of ' + nameOf(w.id) + ' by type', ['Type', 'Count'], Object.entries(counts).sort().map(([t, n]) => [t, num(n)])));
  });
  document.getElementById('workspaces-body').replaceChildren(...(out.length ? out : [h('p', {}, 'No workspaces.')]));
  renderRegistries();
}

// renderRegistries shows each ML registry's network settings: its
// publicNetworkAccess, regions, the private endpoints that reach it and
// its assets by type.
function renderRegistries() {
  const pes = byType('microsoft.network/privateendpoints').map((pe) => Object.assign({ name: nameOf(pe.id) }, peInfo(pe)));
  const out = byType('microsoft.machinelearningservices/registries').map((r) => {
    const p = props(r);
    const hid = 'reg-' + r.id.replace(/[^A-Za-z0-9]/g, '-');
    const prefix = lower(r.id) + '/';
    const counts = {};
    for (const c of data.resources) if (lower(c.id).startsWith(prefix)) { const t = c.type.replace(/^Microsoft\.MachineLearningServices\/registries\//i, ''); counts[t] = (counts[t] || 0) + 1; }
    return h('article', { 'aria-labelledby': hid },
      h('h3', { id: hid }, 'Registry ' + nameOf(r.id)),
      h('p', { class: 'id' }, r.id),
      h('dl', { class: 'props' },
        h('dt', {}, 'publicNetworkAccess'), h('dd', {}, p.publicNetworkAccess || 'Enabled (not set)'),
        h('dt', {}, 'Regions'), h('dd', {}, (p.regionDetails || []).map((d) => d.location).join(', ') || r.body.location || '')),
      table('Private endpoints of ' + nameOf(r.id), ['Endpoint', 'State', 'Private IP'],
        pes.filter((pe) => lower(pe.target) === lower(r.id)).map((pe) => [pe.name, pe.state || 'unknown', pe.ip])),
      table('Assets of ' + nameOf(r.id) + ' by type', ['Type', 'Count'], Object.entries(counts).sort().map(([t, n]) => [t, num(n)])));
  });
  document.getElementById('registries-body').replaceChildren(...(out.length ? out : [h('p', {}, 'No ML registries.')]));
}

// tick updates the countdowns, and re-reads once one has ended.
function tick() {
  let ended = false;
  for (const el of document.querySelectorAll('.countdown[data-until]')) {
    const left = new Date(el.dataset.until) - armletNow();
    el.querySelector('.left').textContent = fmtDuration(left);
    if (left <= 0) ended = true;
  }
  const c = document.getElementById('clock-now');
  if (c) c.textContent = fmtTime(armletNow().toISOString().replace(/\.\d+Z$/, 'Z'));
  if (ended && !stopped) refresh(true);
}

// ---- Exposure ----

function params(ps) { return (ps || []).map((p) => p.name + '=' + (p.redacted ? '[REDACTED]' : p.value)).join(', '); }
function renderExposure() {
  const r = data.exposure || {};
  const cls = formVal('exposure-filters', 'class');
  // A storage account's or key vault's data plane settles its path by
  // its publicNetworkAccess alone: its private endpoints and public ARM
  // are not its report's settings.
  const one = (e, kind, dataPlane) => {
    const st = e.settings || {};
    const pub = (e.public || []).filter((o) => !cls || o.class === cls);
    const id = e.workspace || e.registry || e.storageAccount || e.vault;
    const calls = (ops) => ops.reduce((n, o) => n + (o.count || 0), 0);
    return h('article', { 'data-kind': kind },
      h('h3', {}, kind + ' ' + nameOf(id)), h('p', { class: 'id' }, id),
      h('p', {}, st.exists === false ? 'deleted · ' : '', 'publicNetworkAccess ', h('strong', {}, st.publicNetworkAccess || 'n/a'),
        kind === 'Workspace' ? [' · v1LegacyMode ', h('strong', {}, String(!!st.v1LegacyMode))] : '',
        dataPlane ? '' : [' · approved private endpoints ', h('strong', {}, String(st.approvedPrivateEndpoints || 0)),
          ' · public ARM ', h('strong', {}, st.publicArmDisabled ? 'disabled' : 'allowed')]),
      h('p', { class: 'calls' }, h('span', { class: 'public' }, calls(pub) + ' public calls'), ' · ',
        h('span', { class: 'private' }, calls(e.private || []) + ' private calls')),
      table('Public operations of ' + nameOf(id), ['Operation', 'Class', 'Calls', 'Statuses', 'Last seen', 'Callers', 'Query', 'Body', 'What would have kept it private'],
        pub.map((o) => [h('code', {}, slashy(o.operation)), h('span', { class: 'public' }, o.class), num(o.count), Object.entries(o.statuses || {}).map(([k, v]) => k + '×' + v).join(' '),
          fmtTime(o.lastSeen), h('ul', {}, (o.callers || []).map((c) => h('li', { title: c }, knownPrincipals.get(c) || c))),
          params(o.query), params(o.body), h('ul', {}, (o.keepPrivate || []).map((k) => h('li', {}, k)))])),
      table('Private operations of ' + nameOf(id), ['Operation', 'Class', 'Calls', 'Private endpoints'],
        (e.private || []).map((o) => [h('code', {}, slashy(o.operation)), h('span', { class: 'private' }, o.class), num(o.count), (o.privateEndpointIds || []).map(nameOf).join(', ')])));
  };
  const items = [...(r.workspaces || []).map((e) => one(e, 'Workspace')), ...(r.registries || []).map((e) => one(e, 'Registry')),
    ...(r.storageAccounts || []).map((e) => one(e, 'Storage account', true)), ...(r.vaults || []).map((e) => one(e, 'Key vault', true))];
  document.getElementById('exposure-body').replaceChildren(...(items.length ? items : [h('p', {}, 'No operations recorded in this window.')]));
}

// ---- Access ----

function why(e) {
  const out = (e.decisions || []).map((d) => h('li', {}, h('strong', {}, d.kind + ' ' + d.outcome), ': ', d.reason,
    d.refs && d.refs.length ? h('details', {}, h('summary', {}, 'what decided'), h('ul', {}, d.refs.map((r) => h('li', { class: 'id' }, slashy(r))))) : ''));
  if (!out.length) for (const t of e.trail || []) out.push(h('li', {}, t));
  return h('ul', {}, out);
}
// principalName is a principal's name, or its app or object id when
// armlet's identity no longer holds it (deleted).
const principalName = (p) => p.name || p.appId || p.objectId;
// rememberPrincipals offers the principals seen so far by name in the
// principal filters (a datalist), whatever the filters show now.
const knownPrincipals = new Map();
function rememberPrincipals(ps) {
  let changed = false;
  for (const p of ps || []) if (p.name && !knownPrincipals.has(p.objectId)) { knownPrincipals.set(p.objectId, p.name); changed = true; }
  if (changed) document.getElementById('principal-names').replaceChildren(...[...knownPrincipals].map(([id, name]) => h('option', { value: name }, id)));
}
function renderAccess() {
  const r = data.access || {};
  const items = (r.principals || []).map((p) => h('article', {},
    h('h3', {}, 'Principal ' + principalName(p)),
    h('p', {}, p.name ? '' : 'a principal armlet no longer holds · ', 'object id ', h('code', {}, p.objectId),
      p.appId ? [' · app id ', h('code', {}, p.appId)] : '', ' · ', p.requests + (p.requests === 1 ? ' request · ' : ' requests · '), h('span', { class: p.denied ? 'refused' : '' }, p.denied + ' denied')),
    table('Requests of ' + principalName(p), ['Time', 'Method', 'Operation', 'Resource', 'Status', 'Outcome', 'Why'],
      (p.entries || []).map((e) => [fmtTime(e.time), e.method, h('code', {}, slashy(e.operation)), h('span', { class: 'id', title: e.resourceId || '' }, shortID(e.resourceId)),
        num(e.status + (e.errorCode ? ' ' + e.errorCode : '')), h('strong', { class: e.outcome === 'allowed' ? 'private' : 'refused' }, e.outcome), why(e)]))));
  document.getElementById('access-body').replaceChildren(...(items.length ? items : [h('p', {}, 'No requests recorded in this window.')]));
}

// ---- Clock ----

function renderClock() {
  const c = data.clock || {};
  document.getElementById('clock-body').replaceChildren(
    h('dt', {}, 'armlet clock'), h('dd', {}, h('time', { id: 'clock-now' }, fmtTime(c.now))),
    h('dt', {}, 'offset from the wall clock'), h('dd', {}, c.offset || '0s'));
}
async function advance(ev) {
  ev.preventDefault();
  const out = document.getElementById('clock-result');
  try {
    const body = await api('clock/advance', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ duration: formVal('clock-advance', 'duration').trim() }) });
    out.textContent = 'Advanced: the clock is now ' + fmtTime(body.now) + ' (offset ' + body.offset + ').';
    await refresh(true);
  } catch (err) {
    out.textContent = 'Not advanced: ' + err.message;
  }
}

// ---- Live updates ----

async function refresh(full) {
  if (stopped) return;
  try {
    const rev = await api('ui/revision');
    const key = rev.revision + '/' + rev.clockOffset;
    if (full || key !== revision || Date.now() - lastFull > FULL_MS) {
      revision = key;
      await load();
    }
  } catch (err) {
    if (!stopped) document.getElementById('status').textContent = 'Not updated: ' + err.message;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  window.addEventListener('hashchange', () => { render(); document.getElementById('main').focus(); });
  for (const f of ['network-filters', 'exposure-filters', 'access-filters']) {
    document.getElementById(f).addEventListener('change', () => refresh(true));
    document.getElementById(f).addEventListener('submit', (ev) => { ev.preventDefault(); refresh(true); });
  }
  document.getElementById('clock-advance').addEventListener('submit', advance);
  document.getElementById('logout').addEventListener('click', async () => {
    await fetch('/ui/logout', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    stopped = true;
    document.getElementById('main').replaceChildren(h('p', {}, 'Signed out. Open a new login link (armlet ui prints one) to sign in again.'));
  });
  refresh(true);
  setInterval(() => refresh(false), POLL_MS);
  setInterval(tick, 1000);
});
