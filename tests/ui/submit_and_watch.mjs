// End-to-end test of skiff's web UI in headless Chromium.
//
//   node tests/ui/submit_and_watch.mjs URL [SCREENSHOT_DIR]
//
// Opens the UI at URL, submits a three-step DAG through the submit page, waits until every node of the graph
// is green and the run's badge says Succeeded, opens a step's logs and waits for its text, and saves
// screenshots (submit, list, graph, logs, yaml) into SCREENSHOT_DIR. Exits 0 when all of that happened, 1
// otherwise. Environment: SKIFF_UI_URL, SKIFF_UI_SCREENSHOTS, SKIFF_TOKEN (sent when the UI asks for one),
// CHROMIUM (default /usr/bin/chromium), SKIFF_UI_TIMEOUT_MS (default 120000).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = (process.argv[2] || process.env.SKIFF_UI_URL || "").replace(/\/$/, "");
const shots = process.argv[3] || process.env.SKIFF_UI_SCREENSHOTS || "target/ui-screenshots";
const token = process.env.SKIFF_TOKEN || "";
const timeout = Number(process.env.SKIFF_UI_TIMEOUT_MS || 120000);
if (!url) {
  console.error("usage: node submit_and_watch.mjs URL [SCREENSHOT_DIR]");
  process.exit(2);
}

const WORKFLOW = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: ui-e2e-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: greeting
      value: hello
  templates:
  - name: main
    dag:
      tasks:
      - name: first
        template: say
        arguments: {parameters: [{name: msg, value: "{{workflow.parameters.greeting}} from first"}]}
      - name: second
        depends: first
        template: say
        arguments: {parameters: [{name: msg, value: "second saw {{tasks.first.outputs.result}}"}]}
      - name: third
        depends: first
        template: say
        arguments: {parameters: [{name: msg, value: third}]}
  - name: say
    inputs:
      parameters:
      - name: msg
    container:
      image: busybox
      command: [sh, -c]
      args: ["echo '{{inputs.parameters.msg}}'; sleep 1"]
`;

const step = (text) => console.log(`ui-test: ${text}`);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
  ],
  // Playwright starts the browser on a fresh profile of its own (a temporary --user-data-dir).
});
let ok = false;
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
page.on("console", (m) => {
  // The browser reports the 401 that makes the UI ask for the token; that one is expected.
  if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(m.text());
});
page.setDefaultTimeout(timeout);
try {
  await page.goto(`${url}/#/submit`);

  step("submitting through the submit page");
  await page.fill("#yaml-input", WORKFLOW);
  await page.click("#load-params");
  // A server with a token refuses the first call; the UI asks for the token and retries.
  await page.locator('input[data-param="greeting"], #token-dialog[open]').first().waitFor();
  if (await page.locator("#token-dialog[open]").count()) {
    if (!token) throw new Error("the server wants a token: set SKIFF_TOKEN");
    step("giving the UI the token it asked for");
    await page.screenshot({ path: join(shots, "0-token.png") });
    await page.fill("#token-input", token);
    await page.click('#token-form button[value="ok"]');
  }
  const param = page.locator('input[data-param="greeting"]');
  await param.waitFor();
  if ((await param.inputValue()) !== "hello") throw new Error("the parameter's default was not loaded");
  await param.fill("howdy");
  await page.screenshot({ path: join(shots, "1-submit.png") });
  await page.click("#submit");
  await page.waitForURL(/#\/workflows\/[^/]+\/ui-e2e-/);
  const name = decodeURIComponent(page.url().split("/").pop());
  step(`submitted ${name}; waiting for the graph to turn green`);

  await page.waitForFunction(() => {
    const nodes = [...document.querySelectorAll("#graph g.node")];
    const pods = nodes.filter((n) => n.dataset.type === "Pod");
    return pods.length === 3 && nodes.every((n) => n.dataset.phase === "Succeeded") &&
      document.querySelector("#run-phase .badge")?.dataset.phase === "Succeeded";
  });
  const colour = await page.locator('#graph g.node[data-type="Pod"] .status').first()
    .evaluate((el) => getComputedStyle(el).fill);
  if (colour !== "rgb(26, 143, 76)") throw new Error(`a succeeded node is drawn ${colour}, not green`);
  await page.screenshot({ path: join(shots, "3-graph.png") });

  step("opening the logs of step `second`");
  const second = page.locator('#graph g.node[data-type="Pod"]', { hasText: "second" });
  await second.click();
  await page.locator("#node-panel").waitFor();
  await page.locator('#node-panel table.outputs').waitFor();
  await page.click('[data-panel-tab="logs"]');
  await page.waitForFunction(() => document.querySelector("#logs")?.textContent.includes("second saw howdy from first"));
  await page.screenshot({ path: join(shots, "4-logs.png") });

  step("checking the YAML tab and the list");
  await page.click('[data-tab="yaml"]');
  await page.waitForFunction(() => document.querySelector("#yaml")?.textContent.includes("entrypoint: main"));
  await page.screenshot({ path: join(shots, "5-yaml.png") });
  await page.click('a[data-nav="workflows"]');
  await page.locator(`tr.run-row[data-name="${name}"] .badge[data-phase="Succeeded"]`).waitFor();
  await page.screenshot({ path: join(shots, "2-list.png") });

  if (errors.length) throw new Error(`the page logged errors:\n${errors.join("\n")}`);
  ok = true;
  step(`passed; screenshots in ${shots}`);
} catch (e) {
  console.error(`ui-test: FAILED: ${e.message}`);
  if (errors.length) console.error(`page errors:\n${errors.join("\n")}`);
  await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(ok ? 0 : 1);
