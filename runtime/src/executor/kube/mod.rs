//! The `kubernetes` executor: a step as a pod on the cluster of the current kubeconfig context.
//!
//! - [`config`]: finding the cluster as kubectl does (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`,
//!   in-cluster), with a context and a namespace;
//! - [`pod`]: the pod (and the config map of its inputs) a step becomes, shaped as Argo shapes it; pure;
//! - [`exec`]: creating the pod, following it to its end, streaming its log, collecting its outputs,
//!   deleting it;
//! - [`s3`]: an S3-compatible artifact repository for large data: its file, credentials, presigned URLs
//!   and skiff's own transfers.
//!
//! # How data crosses between the machine and the pod
//!
//! A plain cluster has no object store, so everything goes through the API server:
//!
//! - **In**: input artifacts and a script's source travel in a config map created beside the pod
//!   (`<pod>-inputs`, one `binaryData` key per input: `i0`, `i1`, ...), mounted read-only at
//!   [`INPUTS_DIR`]. A small POSIX shell wrapper, the main container's command, puts each in place
//!   (a file is copied, a directory is unpacked from a tar) before it runs the template's own command.
//! - **Out**: the wrapper saves the command's stdout, its exit code, each output parameter's file and each
//!   output artifact (as a tar) under [`OUTPUTS_DIR`], a volume it shares with a sidecar container named
//!   [`WAIT_CONTAINER`]. Once the exit code is there, the sidecar prints the whole folder as a base64 tar
//!   to its log and ends; skiff reads that log.
//!
//! A config map holds at most 1 MiB, and a container log is rotated by the kubelet at 10 MiB by default:
//! this way suits parameters, reports and small data, with no 256 KiB cap on parameters.
//!
//! # Large data: an artifact repository
//!
//! With an S3-compatible repository configured (see [`s3`]), artifacts go through it instead, and only
//! small things (a script's source, stdout, the exit code, output parameters) through the API server:
//!
//! - **In**: skiff uploads each input artifact before it creates the pod; an init container,
//!   [`INIT_CONTAINER`], downloads them with presigned GET URLs into an `emptyDir` mounted at
//!   [`INPUTS_DIR`] (and copies the config map's entries there, a script's source), so the wrapper finds
//!   every input where it always does.
//! - **Out**: once the exit code is there, the wait sidecar uploads each output artifact's tar with a
//!   presigned PUT URL (`curl -fsS -T`), notes how that went in `a<k>.put` (`ok`, or curl's error), and
//!   leaves the tar out of the log; skiff downloads the tar and unpacks it into the artifact store.
//!
//! The init container and the sidecar then run [`DEFAULT_TRANSFER_IMAGE`] (or `SKIFF_WAIT_IMAGE`).

pub mod config;
pub mod exec;
pub mod pod;
pub mod s3;

pub use config::{ClusterConfig, KubeError};
pub use exec::{KubeExecutor, PodGc, PodRun};
pub use pod::{PodInput, PodManifests, PodPlan, pod_manifests};
pub use s3::{
    ArtifactRepository, Credentials, RepositoryClient, RepositoryError, RepositoryTransfer,
};

/// Where the inputs' config map is mounted in the main container.
pub const INPUTS_DIR: &str = "/skiff/in";
/// The volume the wrapper writes outputs to, shared with the [`WAIT_CONTAINER`].
pub const OUTPUTS_DIR: &str = "/skiff/out";
/// The main container's name, as Argo names it.
pub const MAIN_CONTAINER: &str = "main";
/// The sidecar that hands the outputs back, through its log.
pub const WAIT_CONTAINER: &str = "wait";
/// The init container that fetches the inputs from an artifact repository.
pub const INIT_CONTAINER: &str = "skiff-init";
/// The image of the [`WAIT_CONTAINER`] unless `SKIFF_WAIT_IMAGE` names another: it needs `sh`, `tar`,
/// `base64` and `sleep`.
pub const DEFAULT_WAIT_IMAGE: &str = "busybox:1.36";
/// The image of the [`WAIT_CONTAINER`] and the [`INIT_CONTAINER`] when artifacts go through a
/// repository, unless `SKIFF_WAIT_IMAGE` names another: it needs `curl` besides what
/// [`DEFAULT_WAIT_IMAGE`] has.
pub const DEFAULT_TRANSFER_IMAGE: &str = "curlimages/curl:8.11.1";
/// The label every pod and config map skiff creates carries, with the run's name.
pub const RUN_LABEL: &str = "workflows.argoproj.io/workflow";
/// The annotation with the node's name, as Argo's.
pub const NODE_NAME_ANNOTATION: &str = "workflows.argoproj.io/node-name";
/// The label with the node's id.
pub const NODE_ID_LABEL: &str = "skiff.dev/node-id";
/// The annotation that chooses a template's executor.
pub const EXECUTOR_ANNOTATION: &str = "skiff.dev/executor";
