// The REST API client: Argo Server paths, the bearer token, and the NDJSON streams (watch, logs).
//
// The token lives in localStorage; it is sent as `Authorization: Bearer` on every call and also set as the
// `authorization` cookie so that plain links (artifact downloads) carry it. A 401 opens the token dialog and
// retries the call once the user has given one.

const TOKEN_KEY = "skiff.token";

/** An API error: the server's `{code, message}` or the transport's failure. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

function setToken(value) {
  localStorage.setItem(TOKEN_KEY, value);
  document.cookie = `authorization=${encodeURIComponent(`Bearer ${value}`)}; path=/; SameSite=Strict`;
}

function headers(extra = {}) {
  const out = { ...extra };
  const t = token();
  if (t) out.Authorization = `Bearer ${t}`;
  return out;
}

let asking = null;

/** Opens the token dialog (once, however many calls got a 401) and resolves when a token is set. */
function askToken(previousFailed) {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  const error = document.getElementById("token-error");
  error.hidden = !previousFailed;
  error.textContent = previousFailed ? "That token was refused." : "";
  input.value = "";
  asking = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      asking = null;
      if (input.value) setToken(input.value.trim());
      resolve();
    }, { once: true });
  });
  dialog.showModal();
  input.focus();
  return asking;
}

/** fetch() with the token; a 401 asks for a token and tries again. */
export async function request(path, options = {}) {
  let refused = false;
  for (;;) {
    const response = await fetch(path, { ...options, headers: headers(options.headers) });
    if (response.status !== 401) return response;
    await askToken(refused || Boolean(token()));
    refused = true;
  }
}

async function check(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body.message) message = body.message;
  } catch {
    if (text) message = text;
  }
  throw new ApiError(response.status, message);
}

/** A JSON call: GET with no body, else the body as JSON. */
export async function call(method, path, body) {
  const options = { method };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await check(await request(path, options));
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

const enc = encodeURIComponent;

/** The workflows of a namespace, newest first, without their nodes. */
export function listWorkflows(ns, phases = []) {
  const fields = [
    "items.metadata.name", "items.metadata.namespace", "items.metadata.creationTimestamp",
    "items.metadata.labels", "items.status.phase", "items.status.startedAt", "items.status.finishedAt",
    "items.status.message", "items.status.progress",
  ].join(",");
  let query = `fields=${enc(fields)}`;
  if (phases.length) {
    query += `&listOptions.labelSelector=${enc(`workflows.argoproj.io/phase in (${phases.join(",")})`)}`;
  }
  return call("GET", `/api/v1/workflows/${enc(ns)}?${query}`);
}

export function getWorkflow(ns, name) {
  return call("GET", `/api/v1/workflows/${enc(ns)}/${enc(name)}`);
}

/** retry | resubmit | stop | terminate. */
export function action(ns, name, verb) {
  return call("PUT", `/api/v1/workflows/${enc(ns)}/${enc(name)}/${verb}`, {});
}

export function deleteWorkflow(ns, name) {
  return call("DELETE", `/api/v1/workflows/${enc(ns)}/${enc(name)}`);
}

function yamlCall(path, yaml, parameters) {
  const query = Object.entries(parameters || {})
    .map(([k, v]) => `parameters=${enc(`${k}=${v}`)}`)
    .join("&");
  return request(query ? `${path}?${query}` : path, {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: yaml,
  }).then(check).then((r) => r.json());
}

/** Submits raw YAML (so errors name its lines), with `name=value` parameters. */
export function submitYaml(ns, yaml, parameters) {
  return yamlCall(`/api/v1/workflows/${enc(ns)}`, yaml, parameters);
}

/** Lints raw YAML: the parsed workflow, or an ApiError with the message. */
export function lintYaml(ns, yaml) {
  return yamlCall(`/api/v1/workflows/${enc(ns)}/lint`, yaml);
}

export function artifactUrl(ns, name, nodeId, artifact) {
  return `/artifact-files/${enc(ns)}/workflows/${enc(name)}/${enc(nodeId)}/outputs/${enc(artifact)}`;
}

/**
 * Reads an NDJSON stream, calling `onLine(object)` for each line. Resolves when the stream ends; rejects on
 * a transport or HTTP error. `signal` aborts it.
 */
export async function streamLines(path, onLine, signal) {
  const response = await check(await request(path, { signal }));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  const rest = (buffer + decoder.decode()).trim();
  if (rest) onLine(JSON.parse(rest));
}

/**
 * Follows one workflow: the watch stream when it works (reconnecting with backoff when it ends), polling
 * GET every second when it does not. `onWorkflow(wf)` gets each new version, `onDeleted()` its deletion.
 * Returns a function that stops following.
 */
export function followWorkflow(ns, name, onWorkflow, onDeleted) {
  const controller = new AbortController();
  let stopped = false;
  let failures = 0;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const watchPath = `/api/v1/workflow-events/${enc(ns)}?listOptions.fieldSelector=${enc(`metadata.name=${name}`)}`;

  async function poll() {
    while (!stopped) {
      try {
        onWorkflow(await getWorkflow(ns, name));
      } catch (e) {
        if (e.status === 404) { onDeleted(); return; }
      }
      await sleep(1000);
    }
  }

  async function watch() {
    while (!stopped) {
      let got = false;
      try {
        // The stream sends the current state first on most servers; fetch it anyway so a quiet stream
        // still shows the run.
        onWorkflow(await getWorkflow(ns, name));
        await streamLines(watchPath, (line) => {
          const event = line.result || line;
          // A server that ignores the field selector sends every run's events.
          if (!event.object || event.object.metadata?.name !== name) return;
          got = true;
          if (event.type === "DELETED") onDeleted();
          else onWorkflow(event.object);
        }, controller.signal);
        failures = got ? 0 : failures + 1;
      } catch (e) {
        if (stopped) return;
        if (e.status === 404) { onDeleted(); return; }
        failures += 1;
      }
      if (failures >= 3) return poll();
      await sleep(Math.min(5000, 250 * 2 ** failures));
    }
  }

  watch();
  return () => { stopped = true; controller.abort(); };
}
