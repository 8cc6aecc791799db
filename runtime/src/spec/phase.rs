//! The phase of a node or a run, as Argo names it.

use serde::{Deserialize, Serialize};

/// Where a node (or a whole run) stands. The names and their meaning are Argo's `NodePhase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodePhase {
    /// Known but not started yet.
    Pending,
    /// Started and not finished.
    Running,
    /// Finished with success.
    Succeeded,
    /// Its `when` condition was false: it did not run.
    Skipped,
    /// Its `depends` expression was false once its dependencies finished: it did not run.
    Omitted,
    /// The step's program failed (non-zero exit, a template that failed).
    Failed,
    /// skiff could not run the step (a missing output, a sandbox error, a deadline).
    Error,
}

impl NodePhase {
    /// Whether the node is done (no further change).
    pub fn is_completed(self) -> bool {
        !matches!(self, NodePhase::Pending | NodePhase::Running)
    }

    /// Whether the phase counts as an unsuccessful end (`Failed` or `Error`).
    pub fn is_failed_or_error(self) -> bool {
        matches!(self, NodePhase::Failed | NodePhase::Error)
    }

    /// Argo's spelling of the phase.
    pub fn as_str(self) -> &'static str {
        match self {
            NodePhase::Pending => "Pending",
            NodePhase::Running => "Running",
            NodePhase::Succeeded => "Succeeded",
            NodePhase::Skipped => "Skipped",
            NodePhase::Omitted => "Omitted",
            NodePhase::Failed => "Failed",
            NodePhase::Error => "Error",
        }
    }
}

impl std::fmt::Display for NodePhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
