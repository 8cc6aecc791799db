//! What `#[component]` expands to besides the function: its description, serialized to JSON at
//! compile time (the `skiff.component` custom section), and the `main` that runs it. Not a public
//! API: the macro's expansion is the only user.

use std::io::Write as _;

use crate::{Error, OutputField, fail};

/// The version of the description's format, the `skiff` field.
pub const FORMAT: u32 = 1;

/// One argument of the component function.
#[derive(Debug, Clone, Copy)]
pub struct Arg<'a> {
    /// The argument's name.
    pub name: &'a str,
    /// [`Input::KIND`](crate::Input::KIND).
    pub kind: &'a str,
    /// [`Input::TYPE`](crate::Input::TYPE).
    pub ty: &'a str,
    /// [`Input::REQUIRED`](crate::Input::REQUIRED).
    pub required: bool,
}

/// A component: its name, doc text, arguments, returned outputs, and the name of a single returned
/// value.
#[derive(Debug, Clone, Copy)]
pub struct Description<'a> {
    /// The component's name.
    pub name: &'a str,
    /// The function's doc comment.
    pub doc: &'a str,
    /// The function's arguments, in order.
    pub args: &'a [Arg<'a>],
    /// What the function returns ([`Outputs::FIELDS`](crate::Outputs::FIELDS)).
    pub outputs: &'a [OutputField],
    /// The output name of a single returned value (a field with an empty name).
    pub single: &'a str,
}

impl Description<'_> {
    /// The length of [`json`](Self::json)'s text.
    pub const fn json_len(&self) -> usize {
        self.write::<0>().len
    }

    /// The description as JSON, `N` bytes (`N` from [`json_len`](Self::json_len)).
    pub const fn json<const N: usize>(&self) -> [u8; N] {
        let buf = self.write::<N>();
        assert!(buf.len == N, "the component description's length changed");
        buf.bytes
    }

    const fn write<const N: usize>(&self) -> Buf<N> {
        let mut b = Buf {
            bytes: [0; N],
            len: 0,
        };
        b.raw("{\"skiff\":");
        b.raw(FORMAT_TEXT);
        b.raw(",\"name\":");
        b.string(self.name);
        b.raw(",\"description\":");
        b.string(self.doc);
        b.raw(",\"sdk\":");
        b.string(env!("CARGO_PKG_VERSION"));

        b.raw(",\"inputs\":[");
        let mut first = true;
        let mut i = 0;
        while i < self.args.len() {
            let arg = &self.args[i];
            i += 1;
            let artifact = eq(arg.kind, KIND_ARTIFACT);
            if !artifact && !eq(arg.kind, KIND_PARAMETER) {
                continue;
            }
            b.entry(&mut first, arg.name, arg.kind, arg.ty);
            b.raw(",\"required\":");
            b.raw(if arg.required { "true" } else { "false" });
            if artifact {
                b.raw(",\"path\":\"");
                b.raw(INPUT_ARTIFACTS);
                b.escaped(arg.name);
            } else {
                b.raw(",\"env\":\"");
                b.env_name(arg.name);
            }
            b.raw("\"}");
        }

        b.raw("],\"outputs\":[");
        let mut first = true;
        let mut result = false;
        let mut i = 0;
        while i < self.outputs.len() {
            let field = &self.outputs[i];
            i += 1;
            let name = if field.name.is_empty() {
                result = true;
                self.single
            } else {
                field.name
            };
            b.entry(&mut first, name, "parameter", field.ty);
            b.raw(",\"path\":\"");
            b.raw(OUTPUT_PARAMETERS);
            b.escaped(name);
            b.raw("\"}");
        }
        let mut i = 0;
        while i < self.args.len() {
            let arg = &self.args[i];
            i += 1;
            let (kind, dir, suffix) = if eq(arg.kind, KIND_OUTPUT_ARTIFACT) {
                ("artifact", OUTPUT_ARTIFACTS, "")
            } else if eq(arg.kind, KIND_METRICS) {
                ("metrics", OUTPUT_METRICS, ".json")
            } else {
                continue;
            };
            b.entry(&mut first, arg.name, kind, arg.ty);
            b.raw(",\"path\":\"");
            b.raw(dir);
            b.escaped(arg.name);
            b.raw(suffix);
            b.raw("\"}");
        }
        b.raw("],\"result\":");
        if result {
            b.string(self.single);
        } else {
            b.raw("null");
        }
        b.push(b'}');
        b
    }
}

const FORMAT_TEXT: &str = "1";
const _: () = assert!(FORMAT == 1, "FORMAT_TEXT must spell FORMAT");

/// [`Input::KIND`](crate::Input::KIND) of an input parameter.
pub const KIND_PARAMETER: &str = "parameter";
/// [`Input::KIND`](crate::Input::KIND) of an input artifact.
pub const KIND_ARTIFACT: &str = "artifact";
/// [`Input::KIND`](crate::Input::KIND) of an output artifact passed in as an argument.
pub const KIND_OUTPUT_ARTIFACT: &str = "output-artifact";
/// [`Input::KIND`](crate::Input::KIND) of a metrics handle passed in as an argument.
pub const KIND_METRICS: &str = "metrics";

/// Where input artifacts are placed.
pub const INPUT_ARTIFACTS: &str = "/tmp/inputs/artifacts/";
/// Where output parameters are written.
pub const OUTPUT_PARAMETERS: &str = "/tmp/outputs/parameters/";
/// Where output artifacts are written.
pub const OUTPUT_ARTIFACTS: &str = "/tmp/outputs/artifacts/";
/// Where metrics are written (`<name>.json`).
pub const OUTPUT_METRICS: &str = "/tmp/outputs/metrics/";

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A byte buffer that counts what does not fit: with `N = 0` it only measures.
struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    const fn push(&mut self, byte: u8) {
        if self.len < N {
            self.bytes[self.len] = byte;
        }
        self.len += 1;
    }

    const fn raw(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            self.push(bytes[i]);
            i += 1;
        }
    }

    /// Opens an input or output object in a list: the comma before all but the first, then its
    /// name, kind and type (the caller writes the rest and the closing brace).
    const fn entry(&mut self, first: &mut bool, name: &str, kind: &str, ty: &str) {
        if !*first {
            self.push(b',');
        }
        *first = false;
        self.raw("{\"name\":");
        self.string(name);
        self.raw(",\"kind\":");
        self.string(kind);
        self.raw(",\"type\":");
        self.string(ty);
    }

    /// `s` as a JSON string, quoted.
    const fn string(&mut self, s: &str) {
        self.push(b'"');
        self.escaped(s);
        self.push(b'"');
    }

    /// `s` escaped for the inside of a JSON string.
    const fn escaped(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            i += 1;
            match c {
                b'"' => self.raw("\\\""),
                b'\\' => self.raw("\\\\"),
                b'\n' => self.raw("\\n"),
                b'\r' => self.raw("\\r"),
                b'\t' => self.raw("\\t"),
                0..0x20 => {
                    self.raw("\\u00");
                    self.push(HEX[(c >> 4) as usize]);
                    self.push(HEX[(c & 0xf) as usize]);
                }
                _ => self.push(c),
            }
        }
    }

    /// [`crate::input::env_var`] at compile time: one `_` per character that is not an ASCII
    /// letter or digit.
    const fn env_name(&mut self, name: &str) {
        self.raw("SKIFF_INPUT_");
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            i += 1;
            if c.is_ascii_alphanumeric() {
                self.push(c.to_ascii_uppercase());
            } else if c & 0xc0 != 0x80 {
                // A UTF-8 continuation byte belongs to the character already written as `_`.
                self.push(b'_');
            }
        }
    }
}

/// The component's `main`: prints the description for `--skiff-describe`, otherwise runs the
/// step and ends it as failed with the error's message when it fails.
pub fn main(description: &[u8], run: impl FnOnce() -> Result<(), Error>) {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == "--skiff-describe")
    {
        let mut out = std::io::stdout().lock();
        let written = out
            .write_all(description)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(err) = written {
            fail(format!("could not print the description: {err}"));
        }
        return;
    }
    if let Err(err) = run() {
        fail(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: &[Arg<'static>] = &[
        Arg {
            name: "größe",
            kind: KIND_PARAMETER,
            ty: "integer",
            required: false,
        },
        Arg {
            name: "text",
            kind: KIND_ARTIFACT,
            ty: "artifact",
            required: true,
        },
        Arg {
            name: "report",
            kind: KIND_OUTPUT_ARTIFACT,
            ty: "artifact",
            required: true,
        },
        Arg {
            name: "metrics",
            kind: KIND_METRICS,
            ty: "metrics",
            required: true,
        },
    ];
    const DESC: Description<'static> = Description {
        name: "word-count",
        doc: "Counts \"words\".\n\tTabs\u{1} too.",
        args: ARGS,
        outputs: &[OutputField {
            name: "",
            ty: "integer",
        }],
        single: "words",
    };
    const LEN: usize = DESC.json_len();
    const JSON: [u8; LEN] = DESC.json::<LEN>();

    #[test]
    fn the_description_is_json_that_names_every_channel() {
        let text = std::str::from_utf8(&JSON).unwrap();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["skiff"], 1);
        assert_eq!(value["name"], "word-count");
        assert_eq!(value["description"], "Counts \"words\".\n\tTabs\u{1} too.");
        assert_eq!(value["sdk"], env!("CARGO_PKG_VERSION"));
        assert_eq!(value["result"], "words");
        let inputs = value["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0]["env"], crate::input::env_var("größe"));
        assert_eq!(inputs[0]["env"], "SKIFF_INPUT_GR__E");
        assert_eq!(inputs[0]["required"], false);
        assert_eq!(inputs[1]["path"], "/tmp/inputs/artifacts/text");
        let outputs = value["outputs"].as_array().unwrap();
        let names: Vec<_> = outputs
            .iter()
            .map(|o| (o["name"].as_str().unwrap(), o["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                ("words", "parameter"),
                ("report", "artifact"),
                ("metrics", "metrics")
            ]
        );
        assert_eq!(outputs[0]["path"], "/tmp/outputs/parameters/words");
        assert_eq!(outputs[1]["path"], "/tmp/outputs/artifacts/report");
        assert_eq!(outputs[2]["path"], "/tmp/outputs/metrics/metrics.json");
    }

    #[test]
    fn no_single_value_means_no_result() {
        const D: Description<'static> = Description {
            name: "x",
            doc: "",
            args: &[],
            outputs: &[],
            single: "output",
        };
        const N: usize = D.json_len();
        let value: serde_json::Value = serde_json::from_slice(&D.json::<N>()).unwrap();
        assert_eq!(value["result"], serde_json::Value::Null);
        assert_eq!(value["inputs"], serde_json::json!([]));
    }
}
