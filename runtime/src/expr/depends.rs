//! Dag `depends` expressions: which tasks one mentions, and whether it holds once they have finished.
//!
//! The grammar is Argo's (docs/enhanced-depends-logic.md, workflow/common/ancestry.go): operands are task
//! names (`[A-Za-z0-9_-]+`; a `-` belongs to the name and is never an operator), optionally followed by a
//! result: `.Succeeded`, `.Failed`, `.Errored`, `.Skipped`, `.Omitted`, `.Daemoned`, `.AnySucceeded`,
//! `.AllFailed`; operators are `!`, `&&` (binding tighter) and `||`, with parentheses.
//!
//! What an operand means, as Argo computes it (`evaluateDependsLogic`, `ExpandDependency`):
//! - `A.Succeeded`, `A.Failed`, `A.Errored`, `A.Skipped`, `A.Omitted`: the task's phase is that one
//!   (`Errored` is the phase `Error`).
//! - `A.Daemoned`: never true here (skiff runs no daemon steps).
//! - `A.AnySucceeded` / `A.AllFailed`: over the iterations of a task expanded by `withItems`, `withParam`
//!   or `withSequence`: some iteration Succeeded / there are iterations and every one Failed. For a task
//!   without iterations (or with zero) both are false, as in Argo.
//! - A bare `A` is `(A.Succeeded || A.Skipped || A.Daemoned)`, plus `|| A.Errored` when A has
//!   `continueOn.error` and `|| A.Failed` when A has `continueOn.failed`.
//!
//! The old `dependencies: [A, B]` list is `A && B` ([`dependencies_to_depends`]): each name then gets the
//! bare-name meaning above, so a failed dependency keeps the task from running (it is Omitted) unless the
//! dependency has `continueOn` for that failure. The caller waits until every named task has finished
//! before it evaluates; this module does no IO and keeps no state.

use crate::spec::NodePhase;

use super::error::{ExprError, column};

const CONTEXT: &str = "depends";

/// The result a `depends` operand asks of a task (`A.Succeeded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskResult {
    /// The task succeeded.
    Succeeded,
    /// The task failed (its program exited non-zero).
    Failed,
    /// The task errored (phase `Error`).
    Errored,
    /// The task's `when` was false.
    Skipped,
    /// The task's `depends` was false.
    Omitted,
    /// The task is a daemon that is running; never true in skiff.
    Daemoned,
    /// At least one iteration of the task succeeded.
    AnySucceeded,
    /// The task has iterations and all of them failed.
    AllFailed,
}

impl TaskResult {
    /// Argo's spelling of the result.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskResult::Succeeded => "Succeeded",
            TaskResult::Failed => "Failed",
            TaskResult::Errored => "Errored",
            TaskResult::Skipped => "Skipped",
            TaskResult::Omitted => "Omitted",
            TaskResult::Daemoned => "Daemoned",
            TaskResult::AnySucceeded => "AnySucceeded",
            TaskResult::AllFailed => "AllFailed",
        }
    }

    /// The result Argo spells `name`, if any.
    pub fn from_name(name: &str) -> Option<TaskResult> {
        Some(match name {
            "Succeeded" => TaskResult::Succeeded,
            "Failed" => TaskResult::Failed,
            "Errored" => TaskResult::Errored,
            "Skipped" => TaskResult::Skipped,
            "Omitted" => TaskResult::Omitted,
            "Daemoned" => TaskResult::Daemoned,
            "AnySucceeded" => TaskResult::AnySucceeded,
            "AllFailed" => TaskResult::AllFailed,
            _ => return None,
        })
    }

    /// Whether `outcome` has this result.
    pub fn holds(self, outcome: &TaskOutcome) -> bool {
        match self {
            TaskResult::Succeeded => outcome.phase == NodePhase::Succeeded,
            TaskResult::Failed => outcome.phase == NodePhase::Failed,
            TaskResult::Errored => outcome.phase == NodePhase::Error,
            TaskResult::Skipped => outcome.phase == NodePhase::Skipped,
            TaskResult::Omitted => outcome.phase == NodePhase::Omitted,
            TaskResult::Daemoned => false,
            TaskResult::AnySucceeded => outcome.children.contains(&NodePhase::Succeeded),
            TaskResult::AllFailed => {
                !outcome.children.is_empty()
                    && outcome.children.iter().all(|&p| p == NodePhase::Failed)
            }
        }
    }
}

impl std::fmt::Display for TaskResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a `depends` expression needs to know about one finished task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// The task's phase (for a task with iterations, the phase of its group node).
    pub phase: NodePhase,
    /// For a task expanded by `withItems`/`withParam`/`withSequence`: its iterations' phases. Empty for a
    /// task without iterations.
    pub children: Vec<NodePhase>,
    /// The task has `continueOn.failed`: a bare reference to it also holds when it Failed.
    pub continue_on_failed: bool,
    /// The task has `continueOn.error`: a bare reference to it also holds when it Errored.
    pub continue_on_error: bool,
}

impl TaskOutcome {
    /// A task without iterations or `continueOn` that ended in `phase`.
    pub fn new(phase: NodePhase) -> Self {
        TaskOutcome {
            phase,
            children: Vec::new(),
            continue_on_failed: false,
            continue_on_error: false,
        }
    }

    /// Whether a bare reference to the task holds (Argo's expansion of a name without a result).
    pub fn satisfies_bare(&self) -> bool {
        TaskResult::Succeeded.holds(self)
            || TaskResult::Skipped.holds(self)
            || TaskResult::Daemoned.holds(self)
            || (self.continue_on_error && TaskResult::Errored.holds(self))
            || (self.continue_on_failed && TaskResult::Failed.holds(self))
    }
}

/// One task reference in a `depends` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsRef {
    /// The task name.
    pub task: String,
    /// The result asked for; `None` for a bare name.
    pub result: Option<TaskResult>,
    /// Byte offset of the reference in the expression.
    pub start: usize,
    /// Byte offset just past the reference.
    pub end: usize,
}

#[derive(Debug, Clone)]
enum Node {
    Ref(usize),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

/// A parsed `depends` expression, to evaluate as many times as needed.
#[derive(Debug, Clone)]
pub struct Depends {
    expr: String,
    refs: Vec<DependsRef>,
    /// `None` for an empty expression, which always holds.
    root: Option<Node>,
}

impl Depends {
    /// Parses a `depends` expression.
    ///
    /// # Errors
    /// [`ExprError::Syntax`] for a character or operator that is not part of the grammar, a missing
    /// operand or unbalanced parentheses; [`ExprError::UnknownResult`] for a result that is not one of
    /// Argo's (`A.Done`).
    pub fn parse(expr: &str) -> Result<Depends, ExprError> {
        let tokens = lex(expr)?;
        let mut parser = Parser {
            expr,
            tokens,
            index: 0,
            refs: Vec::new(),
        };
        let root = if parser.tokens.is_empty() {
            None
        } else {
            let node = parser.or()?;
            if let Some(token) = parser.tokens.get(parser.index) {
                return Err(parser.syntax(token.at, format!("unexpected {}", token.describe())));
            }
            Some(node)
        };
        Ok(Depends {
            expr: expr.to_owned(),
            refs: parser.refs,
            root,
        })
    }

    /// The task references, in the order they appear.
    pub fn refs(&self) -> &[DependsRef] {
        &self.refs
    }

    /// The task names mentioned, deduplicated, in order of first appearance.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.refs {
            if !names.contains(&r.task) {
                names.push(r.task.clone());
            }
        }
        names
    }

    /// Evaluates the expression; `lookup` answers each task name with its outcome. Every name is looked up
    /// (even where `&&`/`||` would not need it), so a wrong name is reported whatever the outcomes.
    ///
    /// # Errors
    /// [`ExprError::UnknownTask`] for the first name `lookup` answers with `None`.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<TaskOutcome>) -> Result<bool, ExprError> {
        let mut values = Vec::with_capacity(self.refs.len());
        for r in &self.refs {
            let outcome = lookup(&r.task).ok_or_else(|| ExprError::UnknownTask {
                expr: self.expr.clone(),
                column: column(&self.expr, r.start),
                task: r.task.clone(),
            })?;
            values.push(match r.result {
                Some(result) => result.holds(&outcome),
                None => outcome.satisfies_bare(),
            });
        }
        Ok(self
            .root
            .as_ref()
            .is_none_or(|root| eval_node(root, &values)))
    }
}

fn eval_node(node: &Node, values: &[bool]) -> bool {
    match node {
        Node::Ref(i) => values[*i],
        Node::Not(inner) => !eval_node(inner, values),
        Node::And(a, b) => eval_node(a, values) && eval_node(b, values),
        Node::Or(a, b) => eval_node(a, values) || eval_node(b, values),
    }
}

/// The task names a `depends` expression mentions, deduplicated, in order of first appearance.
///
/// # Errors
/// As [`Depends::parse`].
pub fn depends_names(expr: &str) -> Result<Vec<String>, ExprError> {
    Ok(Depends::parse(expr)?.names())
}

/// Evaluates a `depends` expression once every task it names has finished. `lookup` answers a task name
/// with its outcome. An empty expression holds.
///
/// # Errors
/// As [`Depends::parse`], and [`ExprError::UnknownTask`] for a name `lookup` does not know.
pub fn eval_depends(
    expr: &str,
    lookup: &dyn Fn(&str) -> Option<TaskOutcome>,
) -> Result<bool, ExprError> {
    Depends::parse(expr)?.eval(lookup)
}

/// Argo's reading of the old `dependencies: [A, B]` list: `A && B`, each name then meaning what a bare
/// name means (see the [module documentation](self)). An empty list gives an empty expression, which
/// holds.
pub fn dependencies_to_depends(deps: &[String]) -> String {
    deps.join(" && ")
}

/// The text Argo expands a bare task name to: `(A.Succeeded || A.Skipped || A.Daemoned)`, with
/// `|| A.Errored` and `|| A.Failed` added for `continueOn.error` and `continueOn.failed`. For display;
/// [`Depends::eval`] applies the same rule.
pub fn expand_dependency(name: &str, continue_on_failed: bool, continue_on_error: bool) -> String {
    let mut terms = vec![
        format!("{name}.Succeeded"),
        format!("{name}.Skipped"),
        format!("{name}.Daemoned"),
    ];
    if continue_on_error {
        terms.push(format!("{name}.Errored"));
    }
    if continue_on_failed {
        terms.push(format!("{name}.Failed"));
    }
    format!("({})", terms.join(" || "))
}

// ---------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    Name {
        task: String,
        result: Option<TaskResult>,
        end: usize,
    },
    Not,
    And,
    Or,
    Open,
    Close,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    at: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Name { task, .. } => format!("task '{task}'"),
            TokenKind::Not => "'!'".to_owned(),
            TokenKind::And => "'&&'".to_owned(),
            TokenKind::Or => "'||'".to_owned(),
            TokenKind::Open => "'('".to_owned(),
            TokenKind::Close => "')'".to_owned(),
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn syntax(expr: &str, at: usize, message: impl Into<String>) -> ExprError {
    ExprError::Syntax {
        context: CONTEXT,
        expr: expr.to_owned(),
        column: column(expr, at),
        message: message.into(),
    }
}

fn lex(expr: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = expr.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = expr[i..].chars().next() {
        let at = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let two = expr.get(i..i + 2);
        let kind = match c {
            '(' => TokenKind::Open,
            ')' => TokenKind::Close,
            '!' => TokenKind::Not,
            '&' if two == Some("&&") => TokenKind::And,
            '|' if two == Some("||") => TokenKind::Or,
            c if is_name_char(c) => {
                let name_end = i + expr[i..]
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(expr.len() - i);
                let task = expr[i..name_end].to_owned();
                let mut end = name_end;
                let mut result = None;
                if bytes.get(name_end) == Some(&b'.') {
                    let result_start = name_end + 1;
                    let result_end = result_start
                        + expr[result_start..]
                            .find(|c: char| !c.is_ascii_alphanumeric())
                            .unwrap_or(expr.len() - result_start);
                    let name = &expr[result_start..result_end];
                    if name.is_empty() {
                        return Err(syntax(
                            expr,
                            name_end,
                            format!("expected a task result after '{task}.'"),
                        ));
                    }
                    result = Some(TaskResult::from_name(name).ok_or_else(|| {
                        ExprError::UnknownResult {
                            expr: expr.to_owned(),
                            column: column(expr, result_start),
                            task: task.clone(),
                            result: name.to_owned(),
                        }
                    })?);
                    end = result_end;
                }
                tokens.push(Token {
                    kind: TokenKind::Name { task, result, end },
                    at,
                });
                i = end;
                continue;
            }
            '&' | '|' => {
                return Err(syntax(
                    expr,
                    at,
                    format!("'{c}' is not an operator; use '{c}{c}'"),
                ));
            }
            c => return Err(syntax(expr, at, format!("unexpected character '{c}'"))),
        };
        tokens.push(Token {
            kind: kind.clone(),
            at,
        });
        i += if matches!(kind, TokenKind::And | TokenKind::Or) {
            2
        } else {
            1
        };
    }
    Ok(tokens)
}

struct Parser<'e> {
    expr: &'e str,
    tokens: Vec<Token>,
    index: usize,
    refs: Vec<DependsRef>,
}

impl Parser<'_> {
    fn syntax(&self, at: usize, message: impl Into<String>) -> ExprError {
        syntax(self.expr, at, message)
    }

    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.index).map(|t| &t.kind)
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut node = self.and()?;
        while self.peek() == Some(&TokenKind::Or) {
            self.index += 1;
            node = Node::Or(Box::new(node), Box::new(self.and()?));
        }
        Ok(node)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut node = self.unary()?;
        while self.peek() == Some(&TokenKind::And) {
            self.index += 1;
            node = Node::And(Box::new(node), Box::new(self.unary()?));
        }
        Ok(node)
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        let Some(token) = self.tokens.get(self.index).cloned() else {
            return Err(self.syntax(
                self.expr.len(),
                "unexpected end of expression: a task name is missing",
            ));
        };
        self.index += 1;
        match token.kind {
            TokenKind::Not => Ok(Node::Not(Box::new(self.unary()?))),
            TokenKind::Open => {
                let inner = self.or()?;
                match self.tokens.get(self.index) {
                    Some(Token {
                        kind: TokenKind::Close,
                        ..
                    }) => {
                        self.index += 1;
                        Ok(inner)
                    }
                    Some(other) => Err(self.syntax(
                        other.at,
                        format!("expected ')', found {}", other.describe()),
                    )),
                    None => {
                        Err(self.syntax(token.at, "unbalanced parenthesis: this '(' is not closed"))
                    }
                }
            }
            TokenKind::Name { task, result, end } => {
                self.refs.push(DependsRef {
                    task,
                    result,
                    start: token.at,
                    end,
                });
                Ok(Node::Ref(self.refs.len() - 1))
            }
            _ => Err(self.syntax(
                token.at,
                format!("expected a task name, found {}", token.describe()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use NodePhase::{Error, Failed, Omitted, Skipped, Succeeded};

    fn outcomes(entries: &[(&str, TaskOutcome)]) -> HashMap<String, TaskOutcome> {
        entries
            .iter()
            .map(|(name, o)| ((*name).to_owned(), o.clone()))
            .collect()
    }

    fn eval(expr: &str, tasks: &HashMap<String, TaskOutcome>) -> bool {
        match eval_depends(expr, &|name| tasks.get(name).cloned()) {
            Ok(b) => b,
            Err(e) => panic!("{expr}: {e}"),
        }
    }

    fn done(phase: NodePhase) -> TaskOutcome {
        TaskOutcome::new(phase)
    }

    #[test]
    fn names_in_order_deduplicated() {
        let table: &[(&str, &[&str])] = &[
            ("A", &["A"]),
            ("A && (C.Succeeded || C.Failed)", &["A", "C"]),
            (
                "should-execute-2.Succeeded || should-not-execute",
                &["should-execute-2", "should-not-execute"],
            ),
            ("producer.Succeeded || producer.Skipped", &["producer"]),
            ("inner-B && inner-C", &["inner-B", "inner-C"]),
            (
                "(task1.Failed&&!task-2)||task_3.Failed",
                &["task1", "task-2", "task_3"],
            ),
            (
                "task-1.AnySucceeded || task-2.AllFailed",
                &["task-1", "task-2"],
            ),
            ("", &[]),
        ];
        for (expr, want) in table {
            let got = depends_names(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            assert_eq!(got, *want, "{expr}");
        }
    }

    /// core/dag-enhanced-depends.yaml: A and B pass, C fails.
    #[test]
    fn dag_enhanced_depends() {
        let mut tasks = outcomes(&[
            ("A", done(Succeeded)),
            ("B", done(Succeeded)),
            ("C", done(Failed)),
        ]);
        assert!(eval("A", &tasks), "B and C depend on A");
        assert!(
            eval("A && (C.Succeeded || C.Failed)", &tasks),
            "should-execute-1"
        );
        assert!(eval("B || C", &tasks), "should-execute-2");
        assert!(!eval("B && C", &tasks), "should-not-execute");
        tasks.insert("should-execute-2".into(), done(Succeeded));
        tasks.insert("should-not-execute".into(), done(Omitted));
        assert!(
            eval("should-execute-2.Succeeded || should-not-execute", &tasks),
            "should-execute-3"
        );
        assert!(
            !eval("should-not-execute", &tasks),
            "an omitted task does not satisfy a bare name"
        );
    }

    /// core/dag-continue-on-fail.yaml: B and E fail (no continueOn), the rest pass.
    #[test]
    fn dag_continue_on_fail() {
        let tasks = outcomes(&[
            ("A", done(Succeeded)),
            ("B", done(Failed)),
            ("C", done(Succeeded)),
            ("E", done(Failed)),
            ("F", done(Succeeded)),
        ]);
        assert!(eval("B.Failed && C", &tasks), "D runs");
        assert!(!eval("E && F", &tasks), "G is omitted");
        // With continueOn.failed on E, the bare name accepts its failure.
        let mut tasks = tasks;
        tasks.insert(
            "E".into(),
            TaskOutcome {
                continue_on_failed: true,
                ..done(Failed)
            },
        );
        assert!(eval("E && F", &tasks));
        // continueOn.error does not cover a failure, and continueOn.failed does not cover an error.
        tasks.insert(
            "E".into(),
            TaskOutcome {
                continue_on_error: true,
                ..done(Failed)
            },
        );
        assert!(!eval("E && F", &tasks));
        tasks.insert(
            "E".into(),
            TaskOutcome {
                continue_on_failed: true,
                ..done(Error)
            },
        );
        assert!(!eval("E && F", &tasks));
        tasks.insert(
            "E".into(),
            TaskOutcome {
                continue_on_error: true,
                ..done(Error)
            },
        );
        assert!(eval("E && F", &tasks));
    }

    /// core/skipped-output-defaults/producer-output-default.yaml.
    #[test]
    fn skipped_producer() {
        let tasks = outcomes(&[("producer", done(Skipped))]);
        assert!(eval("producer.Succeeded || producer.Skipped", &tasks));
        assert!(
            eval("producer", &tasks),
            "a skipped task satisfies a bare name"
        );
        assert!(!eval("producer.Succeeded", &tasks));
    }

    /// The examples of Argo's docs/enhanced-depends-logic.md.
    #[test]
    fn documented_examples() {
        let mut tasks = outcomes(&[
            ("task", done(Succeeded)),
            (
                "task-1",
                TaskOutcome {
                    children: vec![Failed, Succeeded],
                    ..done(Failed)
                },
            ),
            ("task-2", done(Failed)),
            ("task-3", done(Succeeded)),
        ]);
        assert!(eval("task || task-2.Failed", &tasks));
        assert!(eval(
            "(task.Succeeded || task.Skipped || task.Daemoned) || task-2.Failed",
            &tasks
        ));
        assert!(!eval(
            "(task-2.Succeeded || task-2.Skipped) && !task-3.Failed",
            &tasks
        ));
        assert!(eval("task-1.AnySucceeded || task-2.AllFailed", &tasks));
        tasks.insert(
            "task-1".into(),
            TaskOutcome {
                children: vec![Failed, Failed],
                ..done(Failed)
            },
        );
        assert!(!eval("task-1.AnySucceeded", &tasks));
        assert!(eval("task-1.AllFailed", &tasks));
        // dependencies: ["A", "B", "C"] is depends: "A && B && C"
        let deps: Vec<String> = ["A", "B", "C"].into_iter().map(String::from).collect();
        assert_eq!(dependencies_to_depends(&deps), "A && B && C");
    }

    #[test]
    fn every_result() {
        let tasks = outcomes(&[
            ("s", done(Succeeded)),
            ("f", done(Failed)),
            ("e", done(Error)),
            ("k", done(Skipped)),
            ("o", done(Omitted)),
            (
                "loop-ok",
                TaskOutcome {
                    children: vec![Succeeded, Succeeded],
                    ..done(Succeeded)
                },
            ),
            (
                "loop-bad",
                TaskOutcome {
                    children: vec![Failed, Error],
                    ..done(Error)
                },
            ),
            ("loop-empty", done(Succeeded)),
        ]);
        let table: &[(&str, bool)] = &[
            ("s.Succeeded", true),
            ("s.Failed", false),
            ("f.Failed", true),
            ("e.Errored", true),
            ("e.Failed", false),
            ("k.Skipped", true),
            ("o.Omitted", true),
            ("s.Daemoned", false),
            ("s", true),
            ("k", true),
            ("f", false),
            ("e", false),
            ("o", false),
            ("s.AnySucceeded", false),
            ("f.AllFailed", false),
            ("loop-ok.AnySucceeded", true),
            ("loop-ok.AllFailed", false),
            ("loop-bad.AnySucceeded", false),
            ("loop-bad.AllFailed", false),
            ("loop-empty.AllFailed", false),
            ("!f", true),
            ("!!s", true),
            ("!(s && f)", true),
            ("s || f && e", true),
            ("(s || f) && e", false),
            ("f && e || s", true),
            ("  s&&k  ", true),
            ("", true),
        ];
        for (expr, want) in table {
            assert_eq!(eval(expr, &tasks), *want, "{expr}");
        }
    }

    #[test]
    fn errors() {
        let tasks = outcomes(&[("A", done(Succeeded))]);
        let lookup = |name: &str| tasks.get(name).cloned();
        let err = eval_depends("A && B", &lookup);
        assert!(
            matches!(err, Err(ExprError::UnknownTask { ref task, column: 6, .. }) if task == "B"),
            "{err:?}"
        );
        let err = eval_depends("A.Done", &lookup);
        assert!(
            matches!(err, Err(ExprError::UnknownResult { ref result, ref task, .. }) if result == "Done" && task == "A"),
            "{err:?}"
        );
        assert!(matches!(
            eval_depends("A.succeeded", &lookup),
            Err(ExprError::UnknownResult { .. })
        ));
        for (expr, want) in [
            ("A &", "'&' is not an operator"),
            ("A == A", "unexpected character '='"),
            ("A &&", "a task name is missing"),
            ("(A", "not closed"),
            ("A)", "unexpected ')'"),
            ("A A", "unexpected task 'A'"),
            ("A.", "expected a task result"),
            ("&& A", "expected a task name, found '&&'"),
        ] {
            let message = match eval_depends(expr, &lookup) {
                Ok(b) => panic!("{expr}: evaluated to {b}"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(want), "{expr}: {message}");
            assert!(message.contains(&format!("'{expr}'")), "{expr}: {message}");
        }
    }

    #[test]
    fn expansion_text_matches_argo() {
        assert_eq!(
            expand_dependency("A", false, false),
            "(A.Succeeded || A.Skipped || A.Daemoned)"
        );
        assert_eq!(
            expand_dependency("A", true, true),
            "(A.Succeeded || A.Skipped || A.Daemoned || A.Errored || A.Failed)"
        );
        assert_eq!(dependencies_to_depends(&[]), "");
    }

    #[test]
    fn parsed_form_reports_refs() {
        let parsed = Depends::parse("a-b.Failed || c").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed.refs(),
            &[
                DependsRef {
                    task: "a-b".into(),
                    result: Some(TaskResult::Failed),
                    start: 0,
                    end: 10
                },
                DependsRef {
                    task: "c".into(),
                    result: None,
                    start: 14,
                    end: 15
                },
            ]
        );
    }
}
