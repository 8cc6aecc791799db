// The workflow graph: edges from a workflow's nodes, and a layered (Sugiyama-style) layout of them.
//
// Edges: a node's `children` are its edges, as in Argo. Where the server lists a container's members without
// the edges between them (a `Steps` node whose children are all its step groups, a `DAG` node whose
// children are all its tasks), the edges are rebuilt from the order of the groups and from the DAG
// template's `depends`/`dependencies`, so either shape draws the same picture.
//
// Layout: longest-path layering, dummy nodes on edges that span layers, barycenter ordering sweeps, then
// x positions pulled toward each node's neighbours. Everything is linear in nodes + edges per sweep.

/** Sizes, in SVG units. */
export const SIZE = {
  boxW: 164,
  boxH: 34,
  dot: 7,
  gapX: 22,
  layerH: 78,
  /** Rows of a wrapped layer are this far apart. */
  rowH: 48,
  /** Layers wider than this many nodes wrap. */
  wrapAt: 16,
};

const GROUPS = new Set(["StepGroup", "TaskGroup"]);

/** Whether a node type is drawn as a small dot rather than a box. */
export function isGroup(type) {
  return GROUPS.has(type);
}

/** `fan(3:3)` → `fan`: the task or step a node belongs to. */
function taskName(node) {
  const name = node.displayName || node.name || "";
  const paren = name.indexOf("(");
  return paren > 0 ? name.slice(0, paren) : name;
}

function templatesOf(wf) {
  const out = new Map();
  for (const t of wf?.spec?.templates || []) out.set(t.name, t);
  for (const t of Object.values(wf?.status?.storedTemplates || {})) if (!out.has(t.name)) out.set(t.name, t);
  for (const t of wf?.spec?.workflowSpec?.templates || []) if (!out.has(t.name)) out.set(t.name, t);
  return out;
}

/** The names of the tasks a DAG task depends on. */
function depsOf(task, names) {
  const out = new Set(task.dependencies || []);
  if (typeof task.depends === "string") {
    for (const m of task.depends.matchAll(/[A-Za-z0-9][A-Za-z0-9_-]*/g)) {
      if (names.has(m[0])) out.add(m[0]);
    }
  }
  return [...out];
}

/**
 * The graph of a workflow: `{ids, edges}` where `edges` is a Map from a node id to the ids it points to, in
 * order. Only ids in `status.nodes` appear.
 */
export function buildGraph(wf) {
  const nodes = wf?.status?.nodes || {};
  const ids = Object.keys(nodes);
  const templates = templatesOf(wf);
  const out = new Map(ids.map((id) => [id, []]));
  const seen = new Set();
  const add = (a, b) => {
    if (a === b || !out.has(a) || !out.has(b)) return;
    const k = `${a}\u0000${b}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.get(a).push(b);
  };
  const kids = (id) => (nodes[id]?.children || []).filter((c) => c in nodes);

  // Per DAG node: its tasks' dependencies, by task name, when its template is known.
  const dagInfo = new Map();
  const dag = (id) => {
    if (dagInfo.has(id)) return dagInfo.get(id);
    const node = nodes[id];
    const tasks = templates.get(node.templateName)?.dag?.tasks;
    let info = null;
    if (node.type === "DAG" && tasks) {
      const names = new Set(tasks.map((t) => t.name));
      const deps = new Map(tasks.map((t) => [t.name, depsOf(t, names)]));
      const dependedOn = new Set([...deps.values()].flat());
      info = { deps, dependedOn };
    }
    dagInfo.set(id, info);
    return info;
  };
  const isStepsList = (id, cs) => nodes[id].type === "Steps" && cs.length > 1 &&
    cs.every((c) => nodes[c].type === "StepGroup");

  // The nodes a container ends with: what comes after it hangs off these.
  const leafMemo = new Map();
  const leaves = (id, visiting = new Set()) => {
    if (leafMemo.has(id)) return leafMemo.get(id);
    if (visiting.has(id)) return [id];
    visiting.add(id);
    const cs = kids(id);
    let result;
    if (cs.length === 0) {
      result = [id];
    } else if (isStepsList(id, cs)) {
      result = leaves(cs[cs.length - 1], visiting);
    } else {
      const info = dag(id);
      const last = info ? cs.filter((c) => !info.dependedOn.has(taskName(nodes[c]))) : cs;
      result = [...new Set((last.length ? last : cs).flatMap((c) => leaves(c, visiting)))];
    }
    visiting.delete(id);
    leafMemo.set(id, result);
    return result;
  };

  for (const id of ids) {
    const cs = kids(id);
    if (isStepsList(id, cs)) {
      add(id, cs[0]);
      for (let i = 1; i < cs.length; i++) for (const leaf of leaves(cs[i - 1])) add(leaf, cs[i]);
      continue;
    }
    const info = dag(id);
    if (!info) {
      for (const c of cs) add(id, c);
      continue;
    }
    const byTask = new Map();
    for (const c of cs) {
      const t = taskName(nodes[c]);
      if (!byTask.has(t)) byTask.set(t, []);
      byTask.get(t).push(c);
    }
    for (const c of cs) {
      const deps = (info.deps.get(taskName(nodes[c])) || []).filter((d) => byTask.has(d));
      if (deps.length === 0) add(id, c);
      for (const d of deps) for (const t of byTask.get(d)) for (const leaf of leaves(t)) add(leaf, c);
    }
  }

  // An exit handler hangs off the end of the run, as Argo draws it.
  const root = wf?.metadata?.name;
  if (root in nodes) {
    const incoming = new Set([...out.values()].flat());
    for (const id of ids) {
      if (id !== root && !incoming.has(id) && /\.onExit$/.test(nodes[id].displayName || nodes[id].name || "")) {
        for (const leaf of leaves(root)) if (leaf !== id) add(leaf, id);
      }
    }
  }
  return { ids, edges: out };
}

/**
 * Lays out a graph. `ids` are the real nodes, `edges` their out-edges, `small(id)` whether a node is a dot.
 * Returns `{pos: Map(id → {x, y, w, h}), paths: [[{x, y}...]...], width, height}` with x, y the node centres.
 */
export function layout(ids, edges, small) {
  const n = ids.length;
  // Real nodes are 0..n-1; dummies follow.
  const index = new Map(ids.map((id, i) => [id, i]));
  const succ = ids.map((id) => edges.get(id).map((b) => index.get(b)));
  const indeg = new Array(n).fill(0);
  for (const s of succ) for (const b of s) indeg[b]++;

  // Initial order: depth-first from the roots, children in order, so sequences read left to right.
  const rank = new Array(n).fill(-1);
  let next = 0;
  const visit = (start) => {
    const stack = [start];
    while (stack.length) {
      const v = stack.pop();
      if (rank[v] >= 0) continue;
      rank[v] = next++;
      for (let i = succ[v].length - 1; i >= 0; i--) if (rank[succ[v][i]] < 0) stack.push(succ[v][i]);
    }
  };
  for (let v = 0; v < n; v++) if (indeg[v] === 0) visit(v);
  for (let v = 0; v < n; v++) if (rank[v] < 0) visit(v);

  // Longest-path layering (Kahn's order; nodes on a cycle, which a workflow has not, go last).
  const layer = new Array(n).fill(0);
  const deg = indeg.slice();
  const queue = [];
  for (let v = 0; v < n; v++) if (deg[v] === 0) queue.push(v);
  const placed = new Array(n).fill(false);
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    placed[v] = true;
    for (const b of succ[v]) {
      if (layer[b] < layer[v] + 1) layer[b] = layer[v] + 1;
      if (--deg[b] === 0) queue.push(b);
    }
  }
  let maxLayer = 0;
  for (let v = 0; v < n; v++) if (placed[v]) maxLayer = Math.max(maxLayer, layer[v]);
  for (let v = 0; v < n; v++) if (!placed[v]) layer[v] = ++maxLayer;

  // Dummy nodes on long edges; each real edge becomes a chain.
  const up = ids.map(() => []);
  const down = ids.map(() => []);
  const chains = [];
  const width = ids.map((id) => (small(id) ? SIZE.dot * 2 : SIZE.boxW));
  for (let a = 0; a < n; a++) {
    for (const b of succ[a]) {
      if (layer[b] <= layer[a]) continue;
      const chain = [a];
      let prev = a;
      for (let l = layer[a] + 1; l < layer[b]; l++) {
        const d = layer.length;
        layer.push(l);
        rank.push(rank[a] + 0.5);
        width.push(4);
        up.push([]);
        down.push([]);
        down[prev].push(d);
        up[d].push(prev);
        chain.push(d);
        prev = d;
      }
      down[prev].push(b);
      up[b].push(prev);
      chain.push(b);
      chains.push(chain);
    }
  }
  const total = layer.length;
  const layers = Array.from({ length: maxLayer + 1 }, () => []);
  for (let v = 0; v < total; v++) layers[layer[v]].push(v);
  for (const l of layers) l.sort((a, b) => rank[a] - rank[b]);

  // Barycenter sweeps, down then up.
  const pos = new Float64Array(total);
  const setPos = (l) => l.forEach((v, i) => { pos[v] = i; });
  layers.forEach(setPos);
  const sweep = (l, nb) => {
    const key = new Float64Array(total);
    for (const v of l) {
      const ns = nb[v];
      if (ns.length === 0) { key[v] = pos[v]; continue; }
      let s = 0;
      for (const u of ns) s += pos[u];
      key[v] = s / ns.length;
    }
    l.sort((a, b) => key[a] - key[b] || pos[a] - pos[b]);
    setPos(l);
  };
  for (let iter = 0; iter < 4; iter++) {
    for (let i = 1; i < layers.length; i++) sweep(layers[i], up);
    for (let i = layers.length - 2; i >= 0; i--) sweep(layers[i], down);
  }

  // A wide layer (a loop's fan-out) wraps into a grid of rows about three times wider than tall, so a
  // 500-step loop stays something one can look at rather than a line 90,000 units long.
  const cell = SIZE.boxW + SIZE.gapX;
  const cols = layers.map((l) => (l.length > SIZE.wrapAt ? Math.max(SIZE.wrapAt, Math.ceil(Math.sqrt(0.75 * l.length))) : 0));
  const rowOf = new Int32Array(total);
  const top = [];
  let yAt = 0;
  layers.forEach((l, i) => {
    top.push(yAt);
    const rows = cols[i] ? Math.ceil(l.length / cols[i]) : 1;
    if (cols[i]) l.forEach((v, j) => { rowOf[v] = Math.floor(j / cols[i]); });
    yAt += (rows - 1) * SIZE.rowH + SIZE.layerH;
  });

  // x: pack each layer, then pull nodes toward their neighbours while keeping the order and the gaps.
  const x = new Float64Array(total);
  const half = (v) => width[v] / 2;
  const gap = (a, b) => half(a) + half(b) + (a >= n || b >= n ? SIZE.gapX / 2 : SIZE.gapX);
  layers.forEach((l, li) => {
    if (cols[li]) {
      const shift = ((Math.min(cols[li], l.length) - 1) * cell) / 2;
      l.forEach((v, j) => { x[v] = (j % cols[li]) * cell - shift; });
      return;
    }
    let cx = 0;
    l.forEach((v, i) => {
      if (i > 0) cx += gap(l[i - 1], v);
      x[v] = cx;
    });
    const shift = cx / 2;
    for (const v of l) x[v] -= shift;
  });
  const want = (v, nb) => {
    const ns = nb[v];
    if (ns.length === 0) return x[v];
    let s = 0;
    for (const u of ns) s += x[u];
    return s / ns.length;
  };
  const place = (l, nb, wrapped) => {
    if (l.length === 0) return;
    if (wrapped) {
      // A grid moves as one block, centred under what it hangs from.
      let s = 0;
      let now = 0;
      for (const v of l) { s += want(v, nb); now += x[v]; }
      const d = (s - now) / l.length;
      for (const v of l) x[v] += d;
      return;
    }
    const wants = l.map((v) => want(v, nb));
    // Two passes that each keep the gaps, averaged, then the gaps enforced once more.
    const left = new Float64Array(l.length);
    const right = new Float64Array(l.length);
    for (let i = 0; i < l.length; i++) left[i] = i === 0 ? wants[i] : Math.max(wants[i], left[i - 1] + gap(l[i - 1], l[i]));
    for (let i = l.length - 1; i >= 0; i--) {
      right[i] = i === l.length - 1 ? wants[i] : Math.min(wants[i], right[i + 1] - gap(l[i], l[i + 1]));
    }
    for (let i = 0; i < l.length; i++) {
      let v = (left[i] + right[i]) / 2;
      if (i > 0) v = Math.max(v, x[l[i - 1]] + gap(l[i - 1], l[i]));
      x[l[i]] = v;
    }
  };
  for (let iter = 0; iter < 3; iter++) {
    for (let i = 1; i < layers.length; i++) place(layers[i], up, cols[i]);
    for (let i = layers.length - 2; i >= 0; i--) place(layers[i], down, cols[i]);
  }

  let minX = Infinity;
  let maxX = -Infinity;
  for (let v = 0; v < total; v++) {
    minX = Math.min(minX, x[v] - half(v));
    maxX = Math.max(maxX, x[v] + half(v));
  }
  if (!Number.isFinite(minX)) { minX = 0; maxX = 0; }
  const y = (v) => top[layer[v]] + rowOf[v] * SIZE.rowH + SIZE.boxH / 2;
  const result = new Map();
  ids.forEach((id, v) => {
    result.set(id, {
      x: x[v] - minX,
      y: y(v),
      w: width[v],
      h: small(id) ? SIZE.dot * 2 : SIZE.boxH,
    });
  });
  const paths = chains.map((chain) => chain.map((v) => ({ x: x[v] - minX, y: y(v) })));
  return { pos: result, paths, chains: chains.map((c) => [ids[c[0]], ids[c[c.length - 1]]]), width: maxX - minX, height: yAt - SIZE.layerH + SIZE.boxH };
}
