// A JSON to YAML printer, for showing a workflow as its author would have written it.
//
// Block style throughout; strings are quoted only when YAML would read them as something else, and
// multi-line strings are literal blocks (`|`), as scripts usually are. A mapping's `name` comes first.

const PLAIN_UNSAFE = /^[\s\-?:,[\]{}#&*!|>'"%@`]|: |\s#|[:\s]$|^$|[\u0000-\u001f]/;
const SPECIAL = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*\.?\d*(?:e[-+]?\d+)?|\.\d+|\.inf|\.nan|0x[0-9a-f]+|0o[0-7]+))$/i;

// YAML 1.1 readers also take dates, times, sexagesimal numbers, `=` and the merge key as something else.
const YAML11 = /^(?:\d{4}-\d\d?-\d\d?(?:[Tt ].*)?|[-+]?\d[\d_]*(?::[0-5]?\d)+(?:\.\d*)?|=|<<)$/;

function scalarString(s) {
  if (PLAIN_UNSAFE.test(s) || SPECIAL.test(s) || YAML11.test(s)) return JSON.stringify(s);
  return s;
}

function key(k) {
  return scalarString(String(k));
}

function isScalar(v) {
  return v === null || typeof v !== "object" ||
    (Array.isArray(v) && v.length === 0) ||
    (!Array.isArray(v) && Object.keys(v).length === 0);
}

function scalar(v) {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "[]";
  if (typeof v === "object") return "{}";
  if (typeof v === "string") return scalarString(v);
  return String(v);
}

function multiline(s, indent) {
  const pad = " ".repeat(indent);
  const chomp = s.endsWith("\n") ? (s.endsWith("\n\n") ? "+" : "") : "-";
  const lead = /^\s/.test(s) ? "2" : "";
  const body = (s.endsWith("\n") ? s.slice(0, -1) : s)
    .split("\n")
    .map((line) => (line ? pad + line : ""))
    .join("\n");
  return `|${lead}${chomp}\n${body}`;
}

function value(v, indent) {
  if (typeof v === "string" && v.includes("\n") && !/[\u0000-\u0009\u000b-\u001f]/.test(v)) {
    return ` ${multiline(v, indent)}`;
  }
  if (isScalar(v)) return ` ${scalar(v)}`;
  return `\n${block(v, indent)}`;
}

function block(v, indent) {
  const pad = " ".repeat(indent);
  if (Array.isArray(v)) {
    return v.map((item) => {
      if (isScalar(item) || typeof item === "string") return `${pad}-${value(item, indent + 2)}`;
      // The first line of a nested block goes on the dash's line.
      const inner = block(item, indent + 2);
      return `${pad}- ${inner.slice(indent + 2)}`;
    }).join("\n");
  }
  // `name` first, as people write templates, tasks and parameters; the rest in the order given.
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  const named = entries.findIndex(([k]) => k === "name");
  if (named > 0) entries.unshift(...entries.splice(named, 1));
  return entries
    .map(([k, x]) => {
      // A list under a key sits at the key's indent, as kubectl prints it.
      const childIndent = Array.isArray(x) ? indent : indent + 2;
      return `${pad}${key(k)}:${value(x, childIndent)}`;
    })
    .join("\n");
}

/** The YAML text of a JSON value. */
export function toYaml(v) {
  if (isScalar(v) || typeof v === "string") return `${value(v, 0).trimStart()}\n`;
  return `${block(v, 0)}\n`;
}
