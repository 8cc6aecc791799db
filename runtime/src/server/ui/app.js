// The skiff web UI: hash routes, the list of runs, the run page (graph, YAML, node panel) and the submit
// page. Talks only to the REST API (api.js); no framework, no build step.

import * as api from "./api.js";
import { Graph } from "./graph.js";
import { ago, badge, done, elapsed, h, toast, when } from "./util.js";
import { toYaml } from "./yaml.js";

const main = document.getElementById("main");
let namespace = "default";
let cleanup = () => {};

const METRICS_PREFIX = "skiff-metrics-";
const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Error"];

// Routing.

function route() {
  cleanup();
  cleanup = () => {};
  main.replaceChildren();
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (params.get("ns")) namespace = params.get("ns");
  let page = "workflows";
  if (parts[0] === "submit") {
    page = "submit";
    cleanup = submitPage();
  } else if (parts[0] === "workflows" && parts.length >= 3) {
    namespace = parts[1];
    cleanup = runPage(parts[1], parts[2]);
  } else {
    if (parts[0] === "workflows" && parts[1]) namespace = parts[1];
    cleanup = listPage();
  }
  document.getElementById("ns").textContent = namespace;
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === page);
}

window.addEventListener("hashchange", route);

function runHref(ns, name) {
  return `#/workflows/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
}

function errorBox(e) {
  return h("pre", { class: "error-box" }, e?.message || String(e));
}

// The list of runs.

function listPage() {
  const state = { phase: sessionStorage.getItem("skiff.phase") || "", prefix: sessionStorage.getItem("skiff.prefix") || "" };
  const phaseSelect = h("select", { id: "phase-filter", "aria-label": "phase" },
    h("option", { value: "" }, "All phases"),
    PHASES.map((p) => h("option", { value: p, selected: p === state.phase }, p)));
  const prefixInput = h("input", { id: "name-filter", type: "search", placeholder: "Name starts with…", value: state.prefix });
  const count = h("span", { class: "muted" });
  const tbody = h("tbody");
  const table = h("table", { class: "runs" },
    h("thead", {}, h("tr", {},
      h("th", {}, "Name"), h("th", {}, "Phase"), h("th", {}, "Started"), h("th", {}, "Duration"),
      h("th", {}, "Progress"), h("th", {}, "Message"))),
    tbody);
  const empty = h("p", { class: "empty", hidden: true });
  const error = h("div");
  main.append(
    h("section", { class: "page" },
      h("div", { class: "page-head" },
        h("h1", {}, "Workflows"), count,
        h("div", { class: "spacer" }),
        phaseSelect, prefixInput,
        h("a", { class: "button primary", href: "#/submit" }, "Submit new")),
      error, table, empty));

  let items = [];
  let stopped = false;
  let timer = 0;

  function draw() {
    const rows = items.filter((wf) =>
      (!state.phase || (wf.status?.phase || "Pending") === state.phase) &&
      (wf.metadata?.name || "").startsWith(state.prefix));
    count.textContent = `${rows.length} of ${items.length}`;
    tbody.replaceChildren(...rows.map((wf) => {
      const name = wf.metadata.name;
      const ns = wf.metadata.namespace || namespace;
      const s = wf.status || {};
      const go = () => { location.hash = runHref(ns, name); };
      return h("tr", { class: "run-row", "data-name": name, onclick: go },
        h("td", {}, h("a", { href: runHref(ns, name) }, name)),
        h("td", {}, badge(s.phase)),
        h("td", { title: s.startedAt || "" }, s.startedAt ? `${when(s.startedAt)} · ${ago(s.startedAt)}` : ""),
        h("td", {}, elapsed(s)),
        h("td", {}, s.progress || ""),
        h("td", { class: "message" }, s.message || ""));
    }));
    empty.hidden = rows.length > 0;
    empty.replaceChildren(items.length
      ? "No run matches the filters."
      : h("span", {}, "No runs yet. ", h("a", { href: "#/submit" }, "Submit a workflow"), "."));
  }

  async function load() {
    try {
      const list = await api.listWorkflows(namespace, state.phase ? [state.phase] : []);
      items = list.items || [];
      error.replaceChildren();
    } catch (e) {
      error.replaceChildren(errorBox(e));
    }
    if (stopped) return;
    draw();
    timer = setTimeout(load, 2000);
  }

  phaseSelect.addEventListener("change", () => {
    state.phase = phaseSelect.value;
    sessionStorage.setItem("skiff.phase", state.phase);
    clearTimeout(timer);
    load();
  });
  prefixInput.addEventListener("input", () => {
    state.prefix = prefixInput.value;
    sessionStorage.setItem("skiff.prefix", state.prefix);
    draw();
  });
  load();
  return () => { stopped = true; clearTimeout(timer); };
}

// The run page.

function runPage(ns, name) {
  let wf = null;
  let selected = null;
  let tab = "graph";

  const title = h("h1", { class: "run-name" }, name);
  const phaseEl = h("span", { id: "run-phase" });
  const meta = h("dl", { class: "meta" });
  const message = h("p", { class: "run-message", hidden: true });
  const buttons = {};
  const actions = h("div", { class: "actions" });
  for (const [verb, text, kind] of [
    ["retry", "Retry", ""], ["resubmit", "Resubmit", ""], ["stop", "Stop", ""],
    ["terminate", "Terminate", "danger"], ["delete", "Delete", "danger"],
  ]) {
    buttons[verb] = h("button", { class: kind, "data-action": verb, onclick: () => act(verb) }, text);
    actions.append(buttons[verb]);
  }
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const tabButtons = {};
  for (const [id, text] of [["graph", "Graph"], ["yaml", "YAML"]]) {
    tabButtons[id] = h("button", { role: "tab", "data-tab": id, onclick: () => showTab(id) }, text);
    tabs.append(tabButtons[id]);
  }
  const graphWrap = h("div", { class: "graph-wrap", id: "graph" });
  const stats = h("span", { class: "stats muted" });
  const toolbar = h("div", { class: "graph-tools" },
    h("button", { title: "Fit to view", onclick: () => { graph.touched = false; graph.fit(); } }, "Fit"),
    h("button", { title: "Zoom in", onclick: () => zoomBy(1.25) }, "+"),
    h("button", { title: "Zoom out", onclick: () => zoomBy(0.8) }, "−"),
    stats);
  const legend = h("div", { class: "legend" },
    ["Succeeded", "Running", "Pending", "Failed", "Skipped"].map((p) => h("span", { class: `key phase-${p}` }, p)));
  graphWrap.append(toolbar, legend);
  const yamlPre = h("pre", { class: "yaml", id: "yaml", hidden: true });
  const panel = h("aside", { class: "panel", id: "node-panel", hidden: true });
  const body = h("div", { class: "run-body" }, h("div", { class: "run-main" }, graphWrap, yamlPre), panel);
  const gone = h("div");
  main.append(h("section", { class: "page run" },
    h("div", { class: "page-head" },
      h("a", { class: "back", href: "#/workflows", title: "All workflows" }, "←"),
      title, phaseEl, h("div", { class: "spacer" }), actions),
    meta, message, gone, tabs, body));

  const graph = new Graph(graphWrap, (id) => selectNode(id));
  graphWrap.querySelector("svg").addEventListener("rendered", (e) => {
    const s = e.detail;
    stats.textContent = `${s.nodes} nodes · layout ${s.layoutMs.toFixed(0)} ms · render ${s.renderMs.toFixed(0)} ms`;
  });
  function zoomBy(f) {
    const r = graph.root.getBoundingClientRect();
    graph.zoom(f, r.width / 2, r.height / 2);
  }

  function showTab(id) {
    tab = id;
    for (const [k, b] of Object.entries(tabButtons)) b.setAttribute("aria-selected", String(k === id));
    graphWrap.hidden = id !== "graph";
    yamlPre.hidden = id !== "yaml";
    if (id === "yaml" && wf) yamlPre.textContent = toYaml(specDoc(wf));
  }
  showTab("graph");

  function drawHeader() {
    const s = wf.status || {};
    phaseEl.replaceChildren(badge(s.phase));
    const rows = [
      ["Started", s.startedAt ? `${when(s.startedAt)} (${ago(s.startedAt)})` : "not yet"],
      ["Duration", elapsed(s)],
      ["Finished", when(s.finishedAt)],
      ["Progress", s.progress || ""],
      ["Entrypoint", wf.spec?.entrypoint || ""],
    ].filter(([, v]) => v);
    meta.replaceChildren(...rows.flatMap(([k, v]) => [h("div", {}, h("dt", {}, k), h("dd", {}, v))]));
    message.hidden = !s.message;
    message.textContent = s.message || "";
    const running = !done(s.phase);
    buttons.stop.disabled = !running;
    buttons.terminate.disabled = !running;
    buttons.retry.disabled = !["Failed", "Error"].includes(s.phase);
  }

  async function act(verb) {
    const labels = { retry: "Retry", resubmit: "Resubmit", stop: "Stop", terminate: "Terminate", delete: "Delete" };
    if (verb === "delete" && !confirm(`Delete ${name}, its logs and artifacts?`)) return;
    if (verb === "terminate" && !confirm(`Terminate ${name}? Its exit handler will not run.`)) return;
    try {
      if (verb === "delete") {
        await api.deleteWorkflow(ns, name);
        toast(`Deleted ${name}`);
        location.hash = "#/workflows";
        return;
      }
      const result = await api.action(ns, name, verb);
      toast(`${labels[verb]}: ${result?.metadata?.name || name}`);
      if (verb === "resubmit" && result?.metadata?.name) location.hash = runHref(ns, result.metadata.name);
      else if (result?.status) onWorkflow(result);
    } catch (e) {
      toast(`${labels[verb]} failed: ${e.message}`, "error");
    }
  }

  // The node panel.
  let panelCleanup = () => {};
  let panelKey = "";
  let panelTab = "summary";

  function selectNode(id) {
    if (selected === id) return;
    selected = id;
    graph.select(id);
    panelKey = "";
    panelTab = "summary";
    panelCleanup();
    panelCleanup = () => {};
    drawPanel();
  }

  function drawPanel() {
    const node = selected && wf?.status?.nodes?.[selected];
    panel.hidden = !node;
    if (!node) return;
    const key = JSON.stringify([node.phase, node.finishedAt, node.message, node.outputs, node.inputs, panelTab]);
    if (key === panelKey) return;
    panelKey = key;
    const hasLogs = !(node.children?.length) && !["Steps", "DAG", "StepGroup", "TaskGroup", "Skipped", "Suspend"].includes(node.type);
    const ptabs = [["summary", "Summary"]];
    if (hasLogs) ptabs.push(["logs", "Logs"]);
    const head = h("div", { class: "panel-head" },
      h("h2", { title: node.name || "" }, node.displayName || node.name || selected),
      badge(node.phase),
      h("button", { class: "close", title: "Close", onclick: () => { selectNode(null); } }, "×"));
    const tabsEl = h("div", { class: "tabs small" }, ptabs.map(([id, text]) =>
      h("button", { "data-panel-tab": id, "aria-selected": String(id === panelTab), onclick: () => { panelTab = id; panelKey = ""; drawPanel(); } }, text)));
    const content = h("div", { class: "panel-body" });
    if (panelTab === "logs" && hasLogs) {
      // Logs keep streaming across redraws of the summary: only start them once per node.
      if (!panel.querySelector(".logs") || panel.dataset.logsFor !== selected) {
        panelCleanup();
        const pre = h("pre", { class: "logs", id: "logs" });
        panelCleanup = followLogs(ns, name, node, pre);
        panel.dataset.logsFor = selected;
        content.append(pre);
      } else {
        content.append(panel.querySelector(".logs"));
      }
    } else {
      panelCleanup();
      panelCleanup = () => {};
      panel.dataset.logsFor = "";
      content.append(...summary(ns, name, node));
    }
    panel.replaceChildren(head, tabsEl, content);
  }

  function onWorkflow(next) {
    wf = next;
    gone.replaceChildren();
    drawHeader();
    graph.update(wf);
    if (tab === "yaml") yamlPre.textContent = toYaml(specDoc(wf));
    drawPanel();
  }

  const stopFollowing = api.followWorkflow(ns, name, onWorkflow, () => {
    gone.replaceChildren(h("p", { class: "error-box" }, "This run was deleted."));
  });
  const tick = setInterval(() => { if (wf && !done(wf.status?.phase)) drawHeader(); }, 1000);
  return () => {
    stopFollowing();
    clearInterval(tick);
    panelCleanup();
    graph.destroy();
  };
}

/** The workflow as its author wrote it: no status, no server-set metadata. */
function specDoc(wf) {
  const m = wf.metadata || {};
  const metadata = { name: m.name, namespace: m.namespace };
  if (m.generateName) metadata.generateName = m.generateName;
  if (m.labels && Object.keys(m.labels).length) metadata.labels = m.labels;
  if (m.annotations && Object.keys(m.annotations).length) metadata.annotations = m.annotations;
  return { apiVersion: wf.apiVersion || "argoproj.io/v1alpha1", kind: wf.kind || "Workflow", metadata, spec: wf.spec };
}

function kv(rows, cls = "", head = null) {
  return h("table", { class: `kv ${cls}` },
    head ? h("thead", {}, h("tr", {}, h("th", {}, head[0]), h("th", {}, head[1]))) : null,
    h("tbody", {}, rows.map(([k, v]) =>
    h("tr", {}, h("th", {}, k), h("td", {}, v instanceof Node ? v : h("code", {}, String(v)))))));
}

/** A metrics value: a JSON object of name → number. */
function metricsRows(text) {
  try {
    const obj = JSON.parse(text);
    if (obj && typeof obj === "object") {
      // KFP's mlpipeline-metrics shape: {metrics: [{name, numberValue}]}.
      if (Array.isArray(obj.metrics)) return obj.metrics.map((m) => [m.name, m.numberValue ?? m.value ?? ""]);
      return Object.entries(obj).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v]);
    }
  } catch { /* not JSON */ }
  return [["value", text]];
}

function summary(ns, name, node) {
  const out = [];
  const info = [
    ["Type", node.type || ""],
    ["Template", node.templateName || ""],
    ["Started", node.startedAt ? when(node.startedAt) : ""],
    ["Duration", elapsed(node)],
    ["Message", node.message || ""],
    ["ID", node.id || ""],
  ].filter(([, v]) => v);
  out.push(kv(info));

  const inParams = node.inputs?.parameters || [];
  const inArts = node.inputs?.artifacts || [];
  if (inParams.length || inArts.length) {
    out.push(h("h3", {}, "Inputs"));
    if (inParams.length) out.push(kv(inParams.map((p) => [p.name, p.value ?? ""])));
    if (inArts.length) out.push(kv(inArts.map((a) => [a.name, a.path || a.from || ""])));
  }

  const outputs = node.outputs || {};
  const params = (outputs.parameters || []).filter((p) => !p.name.startsWith(METRICS_PREFIX));
  const metrics = (outputs.parameters || []).filter((p) => p.name.startsWith(METRICS_PREFIX));
  const rows = params.map((p) => [p.name, p.value ?? ""]);
  if (outputs.result !== undefined && outputs.result !== "") rows.push(["result", outputs.result]);
  if (outputs.exitCode !== undefined) rows.push(["exit code", outputs.exitCode]);
  if (rows.length) {
    out.push(h("h3", {}, "Outputs"));
    out.push(kv(rows, "outputs"));
  }

  const arts = outputs.artifacts || [];
  if (arts.length) {
    out.push(h("h3", {}, "Artifacts"));
    out.push(h("ul", { class: "artifacts" }, arts.map((a) =>
      h("li", {}, h("a", { href: api.artifactUrl(ns, name, node.id, a.name), download: true }, a.name),
        a.path ? h("span", { class: "muted" }, ` ${a.path}`) : null))));
  }

  // Metrics: skiff keeps each metrics artifact (KFP's system.Metrics) and Argo's template metrics as an
  // output parameter named skiff-metrics-<name>; a KFP v1 `mlpipeline-metrics` artifact is fetched.
  const metricsEl = h("div", { class: "metrics" });
  for (const p of metrics) {
    metricsEl.append(h("h4", {}, p.name.slice(METRICS_PREFIX.length)),
      kv(metricsRows(p.value ?? ""), "metrics-table", ["Metric", "Value"]));
  }
  for (const a of arts.filter((x) => /metrics/i.test(x.name))) {
    const holder = h("div", {}, h("h4", {}, a.name), h("p", { class: "muted" }, "Loading…"));
    metricsEl.append(holder);
    api.request(api.artifactUrl(ns, name, node.id, a.name))
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${r.status}`))))
      .then((text) => holder.replaceChildren(h("h4", {}, a.name), kv(metricsRows(text), "metrics-table", ["Metric", "Value"])))
      .catch(() => holder.remove());
  }
  if (metricsEl.childElementCount) out.push(h("h3", {}, "Metrics"), metricsEl);
  return out;
}

/** Streams a node's main-container log into `pre`, following while the node runs. Returns a stop function. */
function followLogs(ns, name, node, pre) {
  const controller = new AbortController();
  const follow = !done(node.phase);
  const path = `/api/v1/workflows/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/log` +
    `?podName=${encodeURIComponent(node.id)}&logOptions.container=main&logOptions.follow=${follow}`;
  let buffer = [];
  let frame = 0;
  let lines = 0;
  const flush = () => {
    frame = 0;
    if (!buffer.length) return;
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(buffer.join(""));
    buffer = [];
    if (stick) pre.scrollTop = pre.scrollHeight;
  };
  pre.classList.add("loading");
  api.streamLines(path, (line) => {
    const content = line.result?.content;
    if (content === undefined) return;
    lines += 1;
    buffer.push(`${content}\n`);
    if (!frame) frame = requestAnimationFrame(flush);
  }, controller.signal).then(() => {
    flush();
    pre.classList.remove("loading");
    pre.dataset.done = "true";
    if (lines === 0) pre.append(h("span", { class: "muted" }, "(no output)"));
  }).catch((e) => {
    if (controller.signal.aborted) return;
    flush();
    pre.classList.remove("loading");
    pre.append(h("span", { class: "error" }, `\n${e.message}`));
  });
  return () => controller.abort();
}

// The submit page.

const EXAMPLE = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: who
      value: world
  templates:
  - name: main
    inputs:
      parameters:
      - name: who
    container:
      image: busybox
      command: [echo, "hello {{inputs.parameters.who}}"]
`;

function submitPage() {
  const text = h("textarea", {
    id: "yaml-input", spellcheck: "false", rows: 24,
    placeholder: "Paste a Workflow's YAML here, or choose a file.",
  });
  text.value = sessionStorage.getItem("skiff.draft") || "";
  const file = h("input", { type: "file", id: "yaml-file", accept: ".yaml,.yml,.json,text/yaml" });
  const params = h("div", { class: "params", id: "params" });
  const error = h("pre", { class: "error-box", id: "submit-error", hidden: true });
  const submit = h("button", { class: "primary", id: "submit", onclick: doSubmit }, "Submit");
  const loadParams = h("button", { id: "load-params", onclick: doLoadParams }, "Load parameters");
  main.append(h("section", { class: "page submit" },
    h("div", { class: "page-head" }, h("h1", {}, "Submit a workflow")),
    h("div", { class: "submit-grid" },
      h("div", { class: "editor" },
        h("div", { class: "row" },
          h("label", { class: "button" }, "Upload file…", file),
          h("button", { onclick: () => { text.value = EXAMPLE; saveDraft(); } }, "Example"),
          h("div", { class: "spacer" }),
          h("span", { class: "muted" }, "namespace ", h("b", {}, namespace))),
        text),
      h("div", { class: "side" },
        h("h3", {}, "Parameters"), params,
        h("div", { class: "row" }, loadParams, submit),
        error))));
  params.append(h("p", { class: "muted" }, "“Load parameters” reads spec.arguments.parameters from the YAML."));

  function saveDraft() { sessionStorage.setItem("skiff.draft", text.value); }
  text.addEventListener("input", saveDraft);
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    text.value = await f.text();
    saveDraft();
    doLoadParams();
  });

  function showError(e) {
    error.hidden = !e;
    error.textContent = e ? e.message || String(e) : "";
  }

  let loaded = false;
  async function doLoadParams() {
    showError(null);
    try {
      const wf = await api.lintYaml(namespace, text.value);
      const list = wf?.spec?.arguments?.parameters || [];
      params.replaceChildren(...(list.length ? list.map((p) =>
        h("label", { class: "param" }, h("span", {}, p.name),
          h("input", { name: p.name, "data-param": p.name, value: p.value ?? p.default ?? "", placeholder: p.description || "" })))
        : [h("p", { class: "muted" }, "This workflow takes no parameters.")]));
      loaded = true;
    } catch (e) {
      showError(e);
    }
  }

  async function doSubmit() {
    showError(null);
    submit.disabled = true;
    const values = {};
    if (loaded) for (const input of params.querySelectorAll("input[data-param]")) values[input.dataset.param] = input.value;
    try {
      const wf = await api.submitYaml(namespace, text.value, values);
      toast(`Submitted ${wf.metadata.name}`);
      location.hash = runHref(wf.metadata.namespace || namespace, wf.metadata.name);
    } catch (e) {
      showError(e);
    } finally {
      submit.disabled = false;
    }
  }
  return () => {};
}

route();
