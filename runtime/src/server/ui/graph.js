// The run graph: an SVG view of a workflow's nodes, laid out by layout.js, colored by phase, with pan and
// zoom. Updates are batched: `update(wf)` only records the newest workflow, and one requestAnimationFrame
// callback draws it. The layout is recomputed only when the set of nodes or edges changes; otherwise a
// render touches just the nodes whose phase or name changed. Node elements are kept by id and reused.

import { buildGraph, isGroup, layout, SIZE } from "./layout.js";

const NS = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
};

const MAX_LABEL = 21;
/** A node's label: `RUN.onExit` is `onExit`; long names end in an ellipsis (bold ones sooner). */
const label = (s, run, bold) => {
  const short = run && s.startsWith(`${run}.`) ? s.slice(run.length + 1) : s;
  const max = bold ? MAX_LABEL - 2 : MAX_LABEL;
  return short.length > max ? `${short.slice(0, max - 1)}…` : short;
};

/** An edge path through its points: straight in the middle, curved at each bend. */
function edgePath(points) {
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const my = (a.y + b.y) / 2;
    d += `C${a.x},${my} ${b.x},${my} ${b.x},${b.y}`;
  }
  return d;
}

export class Graph {
  /** `onSelect(nodeId)` is called when a node is clicked. */
  constructor(container, onSelect) {
    this.onSelect = onSelect;
    this.elements = new Map();
    this.shape = "";
    this.pending = null;
    this.frame = 0;
    this.selected = null;
    this.view = { x: 0, y: 0, k: 1 };
    this.touched = false;
    this.stats = { nodes: 0, layoutMs: 0, renderMs: 0, renders: 0 };

    this.root = svg("svg", { class: "graph-svg" });
    this.viewport = svg("g", { class: "viewport" });
    this.edgesEl = svg("path", { class: "edges" });
    this.nodesEl = svg("g", { class: "nodes" });
    this.viewport.append(this.edgesEl, this.nodesEl);
    this.root.append(this.viewport);
    container.append(this.root);
    this.bindPanZoom();
  }

  /** Records the newest workflow; it is drawn on the next animation frame. */
  update(wf) {
    this.pending = wf;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  select(id) {
    if (this.selected) this.elements.get(this.selected)?.classList.remove("selected");
    this.selected = id;
    if (id) this.elements.get(id)?.classList.add("selected");
  }

  render() {
    this.frame = 0;
    const wf = this.pending;
    if (!wf) return;
    const t0 = performance.now();
    const nodes = wf.status?.nodes || {};
    this.run = wf.metadata?.name;
    const { ids, edges } = buildGraph(wf);
    let shape = "";
    for (const id of ids) shape += `${id}>${edges.get(id).join(",")};`;
    let t1 = t0;
    if (shape !== this.shape) {
      this.shape = shape;
      this.relayout(ids, edges, nodes);
      t1 = performance.now();
      this.stats.layoutMs = t1 - t0;
    }
    for (const id of ids) this.paint(id, nodes[id]);
    const t2 = performance.now();
    this.stats.nodes = ids.length;
    this.stats.renderMs = t2 - t0;
    this.stats.renders += 1;
    this.root.dataset.nodes = String(ids.length);
    this.root.dispatchEvent(new CustomEvent("rendered", { detail: this.stats }));
  }

  relayout(ids, edges, nodes) {
    const result = layout(ids, edges, (id) => isGroup(nodes[id].type));
    this.size = result;
    // Nodes that are gone.
    const live = new Set(ids);
    for (const [id, el] of this.elements) {
      if (!live.has(id)) { el.remove(); this.elements.delete(id); }
    }
    const frag = document.createDocumentFragment();
    for (const id of ids) {
      let el = this.elements.get(id);
      if (!el) {
        el = this.create(id, nodes[id]);
        this.elements.set(id, el);
        frag.append(el);
      }
      const p = result.pos.get(id);
      el.setAttribute("transform", `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`);
    }
    this.nodesEl.append(frag);
    this.edgesEl.setAttribute("d", result.paths.map(edgePath).join(""));
    this.root.classList.toggle("dense", result.paths.length > 150);
    if (!this.touched) this.fit();
  }

  create(id, node) {
    const group = isGroup(node.type);
    const el = svg("g", { class: "node", "data-id": id, "data-type": node.type || "" });
    el.append(svg("title"));
    if (group) {
      el.append(svg("circle", { class: "shape", r: SIZE.dot }));
    } else {
      const w = SIZE.boxW;
      const hgt = SIZE.boxH;
      el.append(
        svg("rect", { class: "shape", x: -w / 2, y: -hgt / 2, width: w, height: hgt, rx: 8 }),
        svg("circle", { class: "status", cx: -w / 2 + 15, cy: 0, r: 6 }),
      );
      const text = svg("text", { x: -w / 2 + 28, y: 4.5 });
      el.append(text);
    }
    if (id === this.selected) el.classList.add("selected");
    return el;
  }

  paint(id, node) {
    const el = this.elements.get(id);
    const phase = node.phase || "Pending";
    const name = node.displayName || node.name || id;
    const key = `${phase}|${name}|${node.message || ""}`;
    if (el.__key === key) return;
    el.__key = key;
    el.setAttribute("class", `node type-${node.type || "Pod"} phase-${phase}${id === this.selected ? " selected" : ""}`);
    el.dataset.phase = phase;
    el.firstChild.textContent = `${name} (${node.type || "Pod"}): ${phase}${node.message ? ` — ${node.message}` : ""}`;
    const text = el.querySelector("text");
    if (text) text.textContent = label(name, this.run, node.type === "DAG" || node.type === "Steps");
  }

  // Pan and zoom.

  apply() {
    const { x, y, k } = this.view;
    this.viewport.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
  }

  /** Fits the whole graph in the view (never zooming in past 1:1). */
  fit() {
    const box = this.root.getBoundingClientRect();
    if (!this.size || box.width === 0) return;
    const pad = 24;
    const w = Math.max(1, this.size.width);
    const h = Math.max(1, this.size.height);
    const k = Math.min(1, (box.width - 2 * pad) / w, (box.height - 2 * pad) / h);
    this.view = {
      k,
      x: (box.width - w * k) / 2,
      y: Math.max(pad, (box.height - h * k) / 2),
    };
    this.apply();
  }

  zoom(factor, cx, cy) {
    const { x, y, k } = this.view;
    const nk = Math.min(4, Math.max(0.02, k * factor));
    const f = nk / k;
    this.view = { k: nk, x: cx - (cx - x) * f, y: cy - (cy - y) * f };
    this.touched = true;
    this.apply();
  }

  bindPanZoom() {
    const root = this.root;
    root.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = root.getBoundingClientRect();
      this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null;
    root.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      drag = { sx: e.clientX, sy: e.clientY, x: this.view.x, y: this.view.y, moved: false, id: e.pointerId };
    });
    root.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.sx;
      const dy = e.clientY - drag.sy;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) root.setPointerCapture(drag.id);
      drag.moved = true;
      root.classList.add("dragging");
      this.touched = true;
      this.view.x = drag.x + dx;
      this.view.y = drag.y + dy;
      this.apply();
    });
    const end = (e) => {
      if (!drag) return;
      const wasDrag = drag.moved;
      drag = null;
      root.classList.remove("dragging");
      if (wasDrag || e.type !== "pointerup") return;
      const nodeEl = e.target.closest?.(".node");
      if (nodeEl) this.onSelect(nodeEl.dataset.id);
    };
    root.addEventListener("pointerup", end);
    root.addEventListener("pointercancel", end);
    new ResizeObserver(() => { if (!this.touched) this.fit(); }).observe(root);
  }

  destroy() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.root.remove();
  }
}
