//! Source positions: where each node of a YAML document starts, keyed by its path
//! (`spec.templates[2].steps[0][1].template`).
//!
//! The map is built from yaml-rust2's event parser, which gives a marker with every event; serde keeps no
//! positions once a document is typed, so validation asks this map where a field was written.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError};

/// One step of a [`YamlPath`]: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSeg {
    /// A key of a mapping.
    Key(String),
    /// A 0-based index into a sequence.
    Index(usize),
}

/// The path of a node from the document root, as serde_yaml prints it in its errors:
/// `spec.templates[2].steps[0][1].template`. The root is the empty path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YamlPath(pub Vec<PathSeg>);

impl YamlPath {
    /// The document root.
    pub fn root() -> Self {
        YamlPath(Vec::new())
    }

    /// This path followed by mapping key `key`.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Key(key.to_string()));
        YamlPath(segs)
    }

    /// This path followed by sequence index `index`.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Index(index));
        YamlPath(segs)
    }

    /// The path one step up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(YamlPath(rest.to_vec()))
    }

    /// Reads the dotted form that [`Display`](fmt::Display) writes (`a.b[0][1].c`, `a["x.y"]`).
    /// Text it cannot read ends the path there.
    pub fn parse(text: &str) -> Self {
        let mut segs = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("[\"") {
                let Some(end) = after.find("\"]") else { break };
                segs.push(PathSeg::Key(after[..end].to_string()));
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let Some(end) = after.find(']') else { break };
                let Ok(i) = after[..end].parse() else { break };
                segs.push(PathSeg::Index(i));
                rest = &after[end + 1..];
            } else {
                let rest_key = rest.strip_prefix('.').unwrap_or(rest);
                let end = rest_key.find(['.', '[']).unwrap_or(rest_key.len());
                if end == 0 {
                    break;
                }
                segs.push(PathSeg::Key(rest_key[..end].to_string()));
                rest = &rest_key[end..];
            }
        }
        YamlPath(segs)
    }

    /// The path with every index written `[]`: `spec.templates[].container.image`. Used to match a field
    /// against lists such as [`IGNORED_LOCALLY`](super::IGNORED_LOCALLY).
    pub fn pattern(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                PathSeg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                PathSeg::Index(_) => out.push_str("[]"),
            }
        }
        out
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(k) if k.contains(['.', '[', ']', '"']) || k.is_empty() => {
                    write!(f, "[\"{k}\"]")?;
                }
                PathSeg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    fn from_marker(m: Marker) -> Self {
        Position {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// Where each node of one YAML document was written.
///
/// [`SourceMap::value`] gives where a node's value starts (a scalar's first character, a flow
/// collection's bracket, a block mapping's first key); [`SourceMap::key`] where the key that holds it was
/// written. Nodes reached through an alias (`*name`) have no entries of their own below the alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    values: HashMap<YamlPath, Position>,
    keys: HashMap<YamlPath, Position>,
    /// Whether a scalar value was written in quotes (its text starts one column later).
    quoted: HashMap<YamlPath, bool>,
    /// Where the document starts.
    start: Option<Position>,
}

impl SourceMap {
    /// Where the value at `path` starts, if it was written in the document.
    pub fn value(&self, path: &YamlPath) -> Option<Position> {
        self.values.get(path).copied()
    }

    /// Where the key holding the value at `path` was written, if it was.
    pub fn key(&self, path: &YamlPath) -> Option<Position> {
        self.keys.get(path).copied()
    }

    /// Whether the scalar at `path` was written in quotes.
    pub fn is_quoted(&self, path: &YamlPath) -> bool {
        self.quoted.get(path).copied().unwrap_or(false)
    }

    /// The position of `path`'s value, or of its nearest ancestor that has one, or the start of the
    /// document (1:1 when the map is empty).
    pub fn nearest(&self, path: &YamlPath) -> Position {
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(pos) = self.value(&cur) {
                return pos;
            }
            p = cur.parent();
        }
        self.start.unwrap_or(Position { line: 1, column: 1 })
    }

    /// Every path that has a key in the document, in no particular order: for lints on unknown or
    /// ignored fields.
    pub fn paths(&self) -> impl Iterator<Item = &YamlPath> {
        self.keys.keys()
    }

    /// Whether the map knows no position at all (a document built in code, not parsed).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The shape of a document's root node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootShape {
    Mapping,
    Sequence,
    Scalar,
    Null,
}

/// What the event pass learned about one document.
#[derive(Debug, Clone)]
pub(crate) struct DocInfo {
    pub map: SourceMap,
    pub shape: RootShape,
    /// The top-level `kind` scalar and where it is.
    pub kind: Option<(String, Position)>,
    /// Where the root node starts.
    pub start: Position,
    /// The line where the document starts (its `---`, or its first token).
    pub doc_line: usize,
    /// The line where the next document starts, if there is one.
    pub end_line: Option<usize>,
}

enum Frame {
    Map {
        path: YamlPath,
        /// The key whose value comes next, or `None` when a key comes next.
        pending: Option<String>,
        /// Whether the first key has been seen (a block mapping's marker points past it).
        seen_key: bool,
    },
    Seq {
        path: YamlPath,
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    docs: Vec<DocInfo>,
    stack: Vec<Frame>,
    map: SourceMap,
    root: Option<RootShape>,
    kind: Option<(String, Position)>,
    start: Option<Position>,
    doc_line: usize,
    /// Keys that are themselves collections (`? [a, b]: c`): depth of the key being skipped.
    complex_key_depth: usize,
}

impl Builder {
    /// The path of a node that starts now, advancing the parent's state. `None` while inside a complex key.
    fn next_path(&mut self, is_scalar_text: Option<&str>, pos: Position) -> Option<YamlPath> {
        if self.complex_key_depth > 0 {
            return None;
        }
        match self.stack.last_mut() {
            None => Some(YamlPath::root()),
            Some(Frame::Seq { path, next }) => {
                let p = path.index(*next);
                *next += 1;
                Some(p)
            }
            Some(Frame::Map {
                path,
                pending,
                seen_key,
            }) => match pending.take() {
                Some(key) => Some(path.key(&key)),
                None => {
                    // This node is a key.
                    let key_path_parent = path.clone();
                    let first = !*seen_key;
                    *seen_key = true;
                    match is_scalar_text {
                        Some(text) => {
                            *pending = Some(text.to_string());
                            let key_path = key_path_parent.key(text);
                            self.map.keys.insert(key_path, pos);
                            if first {
                                // A block mapping's own marker points past its first key; the key is a
                                // better place to show.
                                if let Some(v) = self.map.values.get_mut(&key_path_parent)
                                    && (pos.line, pos.column) < (v.line, v.column)
                                {
                                    *v = pos;
                                }
                            }
                        }
                        None => {
                            *pending = Some(String::from("?"));
                            self.complex_key_depth = 1;
                        }
                    }
                    None
                }
            },
        }
    }

    fn record_value(&mut self, path: &YamlPath, pos: Position) {
        if path.0.is_empty() {
            self.start.get_or_insert(pos);
        }
        self.map.values.insert(path.clone(), pos);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Position::from_marker(mark);
        match ev {
            Event::DocumentStart => {
                self.stack.clear();
                self.map = SourceMap::default();
                self.root = None;
                self.kind = None;
                self.start = None;
                self.doc_line = pos.line;
                self.complex_key_depth = 0;
            }
            Event::DocumentEnd => {
                let mut map = std::mem::take(&mut self.map);
                let start = map
                    .values
                    .get(&YamlPath::root())
                    .copied()
                    .or(self.start)
                    .unwrap_or(pos);
                map.start = Some(start);
                self.docs.push(DocInfo {
                    map,
                    shape: self.root.unwrap_or(RootShape::Null),
                    kind: self.kind.take(),
                    start,
                    doc_line: self.doc_line.max(1),
                    end_line: None,
                });
            }
            Event::Scalar(text, style, _, _) => {
                if self.complex_key_depth > 0 {
                    return;
                }
                let at_root = self.stack.is_empty();
                let Some(path) = self.next_path(Some(&text), pos) else {
                    return;
                };
                if at_root {
                    let null = matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
                        && style == yaml_rust2::scanner::TScalarStyle::Plain;
                    self.root = Some(if null {
                        RootShape::Null
                    } else {
                        RootShape::Scalar
                    });
                }
                if path.0.len() == 1 && path.0[0] == PathSeg::Key("kind".into()) {
                    self.kind = Some((text.clone(), pos));
                }
                let quoted = matches!(
                    style,
                    yaml_rust2::scanner::TScalarStyle::SingleQuoted
                        | yaml_rust2::scanner::TScalarStyle::DoubleQuoted
                );
                if quoted {
                    self.map.quoted.insert(path.clone(), true);
                }
                self.record_value(&path, pos);
            }
            Event::Alias(_) => {
                if self.complex_key_depth > 0 {
                    return;
                }
                // An alias used as a key has no text here; treat it as a complex key.
                if let Some(path) = self.next_path(None, pos) {
                    self.record_value(&path, pos);
                } else if let Some(Frame::Map { .. }) = self.stack.last() {
                    self.complex_key_depth = 0;
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if self.complex_key_depth > 0 {
                    self.complex_key_depth += 1;
                    return;
                }
                let is_map = matches!(ev, Event::MappingStart(..));
                let at_root = self.stack.is_empty();
                let Some(path) = self.next_path(None, pos) else {
                    // A collection used as a key: skip until it closes (depth set by next_path).
                    return;
                };
                if at_root {
                    self.root = Some(if is_map {
                        RootShape::Mapping
                    } else {
                        RootShape::Sequence
                    });
                }
                self.record_value(&path, pos);
                self.stack.push(if is_map {
                    Frame::Map {
                        path,
                        pending: None,
                        seen_key: false,
                    }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if self.complex_key_depth > 0 {
                    self.complex_key_depth -= 1;
                    return;
                }
                self.stack.pop();
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

/// Runs yaml-rust2's parser over `src` and returns what it learned about each document.
pub(crate) fn scan(src: &str) -> Result<Vec<DocInfo>, ScanError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(src);
    parser.load(&mut builder, true)?;
    let mut docs = builder.docs;
    let starts: Vec<usize> = docs.iter().map(|d| d.doc_line).collect();
    for (i, doc) in docs.iter_mut().enumerate() {
        doc.end_line = starts.get(i + 1).copied();
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> YamlPath {
        YamlPath::parse(text)
    }

    #[test]
    fn paths_print_and_parse() {
        let path = YamlPath::root()
            .key("spec")
            .key("templates")
            .index(2)
            .key("steps")
            .index(0)
            .index(1)
            .key("template");
        assert_eq!(path.to_string(), "spec.templates[2].steps[0][1].template");
        assert_eq!(p("spec.templates[2].steps[0][1].template"), path);
        let odd = YamlPath::root()
            .key("metadata")
            .key("annotations")
            .key("a.b/c");
        assert_eq!(odd.to_string(), "metadata.annotations[\"a.b/c\"]");
        assert_eq!(p(&odd.to_string()), odd);
        assert_eq!(path.pattern(), "spec.templates[].steps[][].template");
    }

    #[test]
    fn maps_values_and_keys() {
        let src = "kind: Workflow\nspec:\n  templates:\n  - name: a\n    inputs: {x: \"é\"}\n  - name: b\n    steps:\n    - - name: s\n        template: a\n";
        let docs = scan(src).unwrap();
        assert_eq!(docs.len(), 1);
        let map = &docs[0].map;
        let at = |t: &str| map.value(&p(t)).map(|pos| (pos.line, pos.column));
        assert_eq!(at("kind"), Some((1, 7)));
        assert_eq!(at("spec.templates[0]"), Some((4, 5)));
        assert_eq!(at("spec.templates[0].name"), Some((4, 11)));
        assert_eq!(at("spec.templates[0].inputs"), Some((5, 13)));
        assert_eq!(at("spec.templates[0].inputs.x"), Some((5, 17)));
        assert_eq!(at("spec.templates[1].steps[0][0].template"), Some((9, 19)));
        assert_eq!(
            map.key(&p("spec.templates[1].steps"))
                .map(|pos| (pos.line, pos.column)),
            Some((7, 5))
        );
        assert!(map.is_quoted(&p("spec.templates[0].inputs.x")));
        assert_eq!(
            docs[0].kind.as_ref().map(|k| k.0.as_str()),
            Some("Workflow")
        );
        let nearest = map.nearest(&p("spec.templates[1].steps[0][0].arguments.parameters[3]"));
        assert_eq!((nearest.line, nearest.column), (8, 9));
    }

    #[test]
    fn several_documents_and_complex_keys() {
        let src = "a: 1\n---\n? [x, y]\n: 2\nb: {c: *x}\n";
        let err = scan(src);
        // An unknown alias is an error of yaml-rust2's; a valid one is mapped.
        assert!(err.is_err());
        let docs = scan("a: 1\n---\n? [x, y]\n: 2\nb: 3\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].map.value(&p("b")).map(|q| q.line), Some(5));
    }
}
