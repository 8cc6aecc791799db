// Measures the run graph at scale: submits a workflow with a 500-step loop through the API, opens its run
// page in headless Chromium, and prints the graph's layout and render times once the run has ended.
//
//   node tests/ui/render_500.mjs URL [SCREENSHOT_DIR] [COUNT]     (env STEP_SLEEP: seconds per step, 0.2)
//
// Not part of the test suite; docs/ui.md records its last numbers.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = (process.argv[2] || process.env.SKIFF_UI_URL || "").replace(/\/$/, "");
const shots = process.argv[3] || "target/ui-screenshots";
const count = Number(process.argv[4] || 500);
const token = process.env.SKIFF_TOKEN || "";
// Each step sleeps this long (seconds), so the page sees the run grow and change while it runs.
const sleep = process.env.STEP_SLEEP || "0.2";
const workflow = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: fan-${count}-
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: start
        template: say
        arguments: {parameters: [{name: msg, value: start}]}
      - name: fan
        depends: start
        template: say
        withSequence: {count: "${count}"}
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
      - name: end
        depends: fan
        template: say
        arguments: {parameters: [{name: msg, value: end}]}
  - name: say
    inputs: {parameters: [{name: msg}]}
    container: {image: busybox, command: [sh, -c], args: ["echo {{inputs.parameters.msg}}; sleep ${sleep}"]}
`;

mkdirSync(shots, { recursive: true });
const headers = { "Content-Type": "application/yaml" };
if (token) headers.Authorization = `Bearer ${token}`;
const response = await fetch(`${url}/api/v1/workflows/default`, { method: "POST", headers, body: workflow });
if (!response.ok) throw new Error(`submit: ${response.status} ${await response.text()}`);
const name = (await response.json()).metadata.name;
console.log(`submitted ${name}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
if (token) await page.addInitScript((t) => localStorage.setItem("skiff.token", t), token);
const renders = [];
await page.exposeFunction("__report", (s) => renders.push(s));
await page.addInitScript(() => {
  document.addEventListener("rendered", (e) => window.__report({ ...e.detail }), true);
});
await page.goto(`${url}/#/workflows/default/${name}`);
await page.waitForFunction(() => document.querySelector("#graph g.node.phase-Running"), null, { timeout: 600000 })
  .then(() => page.screenshot({ path: join(shots, `graph-${count}-running.png`) }))
  .catch(() => {});
await page.waitForFunction((n) => {
  const svg = document.querySelector("#graph svg");
  const phase = document.querySelector("#run-phase .badge")?.dataset.phase;
  return svg && Number(svg.dataset.nodes) >= n && ["Succeeded", "Failed", "Error"].includes(phase);
}, count, { timeout: 600000 });
await page.waitForTimeout(500);
await page.screenshot({ path: join(shots, `graph-${count}.png`) });
const layouts = renders.filter((r, i) => i === 0 || r.layoutMs !== renders[i - 1].layoutMs);
const max = (xs) => Math.max(...xs).toFixed(1);
const last = renders[renders.length - 1];
const paints = renders.filter((r, i) => i > 0 && r.layoutMs === renders[i - 1].layoutMs);
if (paints.length) console.log(`renders without a new layout: max ${max(paints.map((r) => r.renderMs))} ms`);
console.log(`${last.nodes} nodes, ${renders.length} renders: layout max ${max(layouts.map((r) => r.layoutMs))} ms, ` +
  `render (layout included) max ${max(renders.map((r) => r.renderMs))} ms, last render ${last.renderMs.toFixed(1)} ms`);
await browser.close();
