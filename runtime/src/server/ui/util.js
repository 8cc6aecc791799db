// Small helpers shared by the pages: DOM building, time and duration formatting.

/** Creates an element: `h("div", {class: "x", onclick: f}, child, "text", ...)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A phase badge: `<span class="badge phase-Succeeded">Succeeded</span>`. */
export function badge(phase) {
  const p = phase || "Pending";
  return h("span", { class: `badge phase-${p}`, "data-phase": p }, p);
}

/** Milliseconds since the epoch, or NaN. */
export function ms(ts) {
  return ts ? Date.parse(ts) : NaN;
}

/** "3s", "2m 05s", "1h 02m". */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const hours = Math.floor(m / 60);
  return `${hours}h ${String(m % 60).padStart(2, "0")}m`;
}

/** The duration of something with `startedAt`/`finishedAt`: running things count up to now. */
export function elapsed(obj) {
  const start = ms(obj?.startedAt);
  if (Number.isNaN(start)) return "";
  const end = ms(obj?.finishedAt);
  return duration(((Number.isNaN(end) ? Date.now() : end) - start) / 1000);
}

/** A timestamp as the local date and time, "" when absent. */
export function when(ts) {
  const t = ms(ts);
  if (Number.isNaN(t)) return "";
  const d = new Date(t);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString()} ${time}`;
}

/** "3 minutes ago" style text for a timestamp. */
export function ago(ts) {
  const t = ms(ts);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Whether a phase is final. */
export function done(phase) {
  return ["Succeeded", "Failed", "Error", "Skipped", "Omitted"].includes(phase);
}

/** Shows a short message at the bottom of the page. */
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 8000 : 3000);
}
