//! Expressions: `{{...}}` tags in strings, `when` conditions and dag `depends` logic.
//!
//! This module owns the syntax and evaluation of expressions; it knows nothing about runs, nodes or files.
//! Callers give it a lookup function that answers a variable name (`inputs.parameters.x`) with its value.

pub mod template;

pub use template::{Tag, substitute, substitute_lenient, tags};
