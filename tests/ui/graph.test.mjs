// Unit tests of the UI's graph building, layout and YAML printer, in plain Node (`node --test tests/ui/`):
// no browser needed. `tests/server_ui.rs` runs them too.

import assert from "node:assert/strict";
import { test } from "node:test";

import { buildGraph, isGroup, layout, SIZE } from "../../runtime/src/server/ui/layout.js";
import { toYaml } from "../../runtime/src/server/ui/yaml.js";

const node = (id, type, displayName, children, extra = {}) => ({ id, type, displayName, name: displayName, children, phase: "Succeeded", ...extra });

/** The edges of a workflow by display name: "a>b" strings, sorted. */
function edges(wf) {
  const { edges: out } = buildGraph(wf);
  const name = (id) => wf.status.nodes[id].displayName;
  return [...out].flatMap(([a, bs]) => bs.map((b) => `${name(a)}>${name(b)}`)).sort();
}

const diamond = {
  metadata: { name: "d" },
  spec: {
    templates: [{
      name: "main",
      dag: { tasks: [{ name: "A" }, { name: "B", depends: "A" }, { name: "C", dependencies: ["A"] }, { name: "D", depends: "B && C.Succeeded" }] },
    }],
  },
};

test("a DAG whose node lists all its tasks gets its edges from the template", () => {
  const wf = {
    ...diamond,
    status: {
      nodes: {
        d: node("d", "DAG", "d", ["a", "b", "c", "dd"], { templateName: "main" }),
        a: node("a", "Pod", "A"), b: node("b", "Pod", "B"), c: node("c", "Pod", "C"), dd: node("dd", "Pod", "D"),
      },
    },
  };
  assert.deepEqual(edges(wf), ["A>B", "A>C", "B>D", "C>D", "d>A"]);
});

test("Argo's shape, where each task lists the tasks after it, draws the same", () => {
  const wf = {
    ...diamond,
    status: {
      nodes: {
        d: node("d", "DAG", "d", ["a"], { templateName: "main" }),
        a: node("a", "Pod", "A", ["b", "c"]), b: node("b", "Pod", "B", ["dd"]), c: node("c", "Pod", "C", ["dd"]),
        dd: node("dd", "Pod", "D"),
      },
    },
  };
  assert.deepEqual(edges(wf), ["A>B", "A>C", "B>D", "C>D", "d>A"]);
});

test("step groups follow each other through the steps of the group before", () => {
  const wf = {
    metadata: { name: "s" },
    status: {
      nodes: {
        s: node("s", "Steps", "s", ["g0", "g1"]),
        g0: node("g0", "StepGroup", "[0]", ["p1"]),
        g1: node("g1", "StepGroup", "[1]", ["p2a", "p2b"]),
        p1: node("p1", "Pod", "hello1"), p2a: node("p2a", "Pod", "hello2a"), p2b: node("p2b", "Pod", "hello2b"),
      },
    },
  };
  assert.deepEqual(edges(wf), ["[0]>hello1", "[1]>hello2a", "[1]>hello2b", "hello1>[1]", "s>[0]"]);
});

/** A DAG with a loop of `count` iterations between two steps. */
function loop(count) {
  const nodes = {
    f: node("f", "DAG", "f", ["start", "fan", "end"], { templateName: "main" }),
    start: node("start", "Pod", "start"),
    fan: node("fan", "TaskGroup", "fan", []),
    end: node("end", "Pod", "end"),
  };
  for (let i = 0; i < count; i++) {
    nodes[`i${i}`] = node(`i${i}`, "Pod", `fan(${i}:${i})`);
    nodes.fan.children.push(`i${i}`);
  }
  return {
    metadata: { name: "f" },
    spec: { templates: [{ name: "main", dag: { tasks: [{ name: "start" }, { name: "fan", depends: "start" }, { name: "end", depends: "fan" }] } }] },
    status: { nodes },
  };
}

test("a loop's iterations all lead to the task after the loop", () => {
  assert.deepEqual(edges(loop(2)), ["f>start", "fan(0:0)>end", "fan(1:1)>end", "fan>fan(0:0)", "fan>fan(1:1)", "start>fan"]);
});

test("500 iterations wrap into a grid with no two boxes overlapping, quickly", () => {
  const wf = loop(500);
  const { ids, edges: out } = buildGraph(wf);
  const t0 = performance.now();
  const result = layout(ids, out, (id) => isGroup(wf.status.nodes[id].type));
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `layout took ${ms} ms`);
  assert.ok(result.width < 6000, `the graph is ${result.width} wide`);
  const boxes = [...result.pos.values()].sort((a, b) => a.y - b.y || a.x - b.x);
  for (let i = 1; i < boxes.length; i++) {
    const [a, b] = [boxes[i - 1], boxes[i]];
    if (a.y === b.y) assert.ok(b.x - a.x >= (a.w + b.w) / 2, `boxes overlap at y=${a.y}`);
  }
  // Layers go down: start above the loop, the loop above end.
  const at = (id) => result.pos.get(id);
  assert.ok(at("f").y < at("start").y && at("start").y < at("fan").y && at("fan").y < at("i0").y);
  assert.ok(at("i499").y < at("end").y);
  // f>start, start>fan, fan>each iteration, each iteration>end.
  assert.equal(result.paths.length, 2 + 500 + 500, "one path per edge");
  assert.ok(SIZE.wrapAt < 500);
});

test("the YAML printer quotes what YAML would read as something else and keeps scripts as blocks", () => {
  const yaml = toYaml({
    metadata: { labels: { done: "true" } },
    spec: {
      templates: [{
        script: { source: "print(1)\nprint(2)\n" },
        name: "main",
        args: ["yes", "10", "a: b", "2024-01-01", "", "plain text", "#x"],
      }],
    },
  });
  assert.equal(yaml, [
    "metadata:",
    "  labels:",
    '    done: "true"',
    "spec:",
    "  templates:",
    "  - name: main",
    "    script:",
    "      source: |",
    "        print(1)",
    "        print(2)",
    "    args:",
    '    - "yes"',
    '    - "10"',
    '    - "a: b"',
    '    - "2024-01-01"',
    '    - ""',
    "    - plain text",
    '    - "#x"',
    "",
  ].join("\n"));
});
