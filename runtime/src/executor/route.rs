//! Routing: which executor runs a template, and the argv a container image would have started.
//!
//! A `wasm:` template runs its own module. A `container` or `script` template on an image whose shell and
//! tools the toolbox provides (busybox, alpine, argoproj/argosay, docker/whalesay) runs in the toolbox, with
//! the argv the image's entrypoint and the template's `command`/`args` would give. `python` images belong to
//! the python executor. Any other image has nowhere to run locally.

use crate::spec::Template;

/// Images whose programs the toolbox provides, by repository name (registry and tag stripped).
pub const TOOLBOX_IMAGES: &[&str] = &["busybox", "alpine", "argoproj/argosay", "docker/whalesay"];

/// Where the script of a `script` template is written inside the sandbox, as Argo writes it.
pub const SCRIPT_PATH: &str = "/argo/staging/script";

/// What an image is to skiff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// Shell and tools from the toolbox: busybox, alpine.
    Shell,
    /// `argoproj/argosay`, entrypoint `argosay` (`v1` tags: the v1 program).
    Argosay {
        /// Whether the tag is `v1`.
        v1: bool,
    },
    /// `docker/whalesay`: a shell with `cowsay`.
    Whalesay,
    /// A `python:*` image: the python executor's.
    Python,
    /// An image with no local executor.
    Unknown,
}

impl ImageKind {
    /// Whether the toolbox runs this image.
    pub fn is_toolbox(self) -> bool {
        matches!(
            self,
            ImageKind::Shell | ImageKind::Argosay { .. } | ImageKind::Whalesay
        )
    }
}

/// The repository part of an image reference: registry host, `library/`, tag and digest removed.
pub fn image_repository(image: &str) -> (&str, &str) {
    let image = image.trim();
    let (image, _digest) = image.split_once('@').unwrap_or((image, ""));
    // A tag is a `:` after the last `/` (a `:` before it is a registry port).
    let (repo, tag) = match image.rfind(':') {
        Some(at) if !image[at..].contains('/') => (&image[..at], &image[at + 1..]),
        _ => (image, ""),
    };
    let repo = match repo.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => repo,
    };
    let repo = repo.strip_prefix("library/").unwrap_or(repo);
    (repo, tag)
}

/// Classifies an image reference.
pub fn image_kind(image: &str) -> ImageKind {
    let (repo, tag) = image_repository(image);
    match repo {
        "busybox" | "alpine" => ImageKind::Shell,
        "argoproj/argosay" => ImageKind::Argosay {
            v1: tag == "v1" || tag.starts_with("v1."),
        },
        "docker/whalesay" => ImageKind::Whalesay,
        "python" => ImageKind::Python,
        _ => ImageKind::Unknown,
    }
}

/// The toolbox tool a program path names: its basename, with `bash`, `ash` and `dash` served by the
/// toolbox's `sh`. The toolbox's own rule, so the two cannot disagree.
pub fn tool_name(program: &str) -> String {
    skiff_toolbox::tool_name(program)
}

/// The argv a container on a toolbox image starts with, as the image's entrypoint and the template's
/// `command` and `args` combine (Docker's rules: `command` replaces the entrypoint, `args` the default
/// command). `script` is the path of a script template's source, appended as Argo appends it.
pub fn toolbox_argv(
    kind: ImageKind,
    command: &[String],
    args: &[String],
    script: Option<&str>,
) -> Vec<String> {
    let mut argv: Vec<String> = if !command.is_empty() {
        command.iter().chain(args).cloned().collect()
    } else {
        match kind {
            ImageKind::Argosay { v1 } => {
                let tool = if v1 { "argosay-v1" } else { "argosay" };
                std::iter::once(tool.to_string())
                    .chain(args.iter().cloned())
                    .collect()
            }
            _ if !args.is_empty() => args.to_vec(),
            _ => vec!["sh".to_string()],
        }
    };
    if let Some(script) = script {
        if command.is_empty() && !matches!(kind, ImageKind::Argosay { .. }) {
            argv = vec!["sh".to_string()];
        }
        argv.push(script.to_string());
    }
    if let Some(first) = argv.first_mut() {
        *first = tool_name(first);
    }
    argv
}

/// `--executor`: where a run's steps go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExecutorChoice {
    /// DESIGN.md's rules: extended resources (`nvidia.com/gpu`) go to Kubernetes, and so do a
    /// `nodeSelector` or `tolerations` when a cluster is configured; known images and `wasm:` templates run
    /// here, other images go to the cluster when one is configured.
    #[default]
    Auto,
    /// Every step here; cluster-only asks are ignored (a GPU step runs on the CPU).
    Local,
    /// Every `container` and `script` step as a pod; `wasm:` templates still run here.
    Kubernetes,
}

/// Where one template's steps run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Here, in wasm (the toolbox, python, or a user's module).
    Local,
    /// As a pod; `reason` says why, for `--dry-run` and errors.
    Kubernetes {
        /// Why the step goes to the cluster.
        reason: String,
    },
    /// Nowhere: the message names the template, the image and the ways out.
    Nowhere {
        /// Why, and what to do.
        message: String,
    },
}

/// Resources a local sandbox can honour (or ignore); any other is an extended resource (`nvidia.com/gpu`).
const LOCAL_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

/// Where `template`'s steps run. Only leaf templates (`container`, `script`, `wasm`) are placed; others
/// are `Local` (they run in the scheduler). `cluster` says whether a cluster is configured.
///
/// In order: the template's `skiff.dev/executor` annotation (`kubernetes`, or `local`/`wasm`), then
/// `--executor local|kubernetes`, then (`auto`) extended resources send it to the cluster, and so do a
/// `nodeSelector` or `tolerations` when there is a cluster (without one they are scheduling hints with no
/// nodes to choose among, and a known image runs here), a `wasm:` template or a known image stays here, and
/// any other image goes to the cluster if there is one.
pub fn place(template: &Template, choice: ExecutorChoice, cluster: bool) -> Placement {
    let container = match (&template.container, &template.script) {
        (Some(c), _) => c,
        (None, Some(s)) => &s.container,
        (None, None) => return Placement::Local,
    };
    let annotation = template
        .metadata
        .annotations
        .get(super::kube::EXECUTOR_ANNOTATION)
        .map(|a| a.trim().to_ascii_lowercase());
    match annotation.as_deref() {
        Some("kubernetes") => {
            return Placement::Kubernetes {
                reason: format!("annotation {}", super::kube::EXECUTOR_ANNOTATION),
            };
        }
        Some("local" | "wasm") => return Placement::Local,
        Some(other) => {
            return Placement::Nowhere {
                message: format!(
                    "template '{}' has annotation {}: {other}, which is not an executor: use kubernetes or wasm",
                    template.name,
                    super::kube::EXECUTOR_ANNOTATION
                ),
            };
        }
        None => {}
    }
    match choice {
        ExecutorChoice::Local => return Placement::Local,
        ExecutorChoice::Kubernetes => {
            return Placement::Kubernetes {
                reason: "--executor kubernetes".to_string(),
            };
        }
        ExecutorChoice::Auto => {}
    }
    if let Some(r) = &container.resources {
        let extended = r
            .limits
            .keys()
            .chain(r.requests.keys())
            .find(|k| !LOCAL_RESOURCES.contains(&k.as_str()));
        if let Some(k) = extended {
            return Placement::Kubernetes {
                reason: format!("asks for {k}"),
            };
        }
    }
    let set = |v: &Option<serde_yaml::Value>| {
        v.as_ref().is_some_and(|v| match v {
            serde_yaml::Value::Null => false,
            serde_yaml::Value::Mapping(m) => !m.is_empty(),
            serde_yaml::Value::Sequence(s) => !s.is_empty(),
            _ => true,
        })
    };
    // A nodeSelector or tolerations pick among a cluster's nodes: with a cluster they send the step there;
    // without one, a step on a known image runs here, where there are no nodes to pick among.
    let known = image_kind(&container.image) != ImageKind::Unknown;
    if cluster || !known {
        if set(&template.node_selector) {
            return Placement::Kubernetes {
                reason: "has a nodeSelector".to_string(),
            };
        }
        if set(&template.tolerations) {
            return Placement::Kubernetes {
                reason: "has tolerations".to_string(),
            };
        }
    }
    if known {
        return Placement::Local;
    }
    if cluster {
        return Placement::Kubernetes {
            reason: format!("image {} has no local executor", container.image),
        };
    }
    Placement::Nowhere {
        message: format!(
            "template '{}' runs on image '{}', which has no local executor and no cluster is configured: give the template the annotation {}: kubernetes and point KUBECONFIG at a cluster, or use an image skiff runs locally (busybox, alpine, argoproj/argosay, docker/whalesay, python)",
            template.name,
            container.image,
            super::kube::EXECUTOR_ANNOTATION
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_strip_registry_tag_and_library() {
        assert_eq!(image_repository("busybox"), ("busybox", ""));
        assert_eq!(image_repository("alpine:3.23"), ("alpine", "3.23"));
        assert_eq!(
            image_repository("docker.io/library/busybox:1.36"),
            ("busybox", "1.36")
        );
        assert_eq!(
            image_repository("localhost:5000/argoproj/argosay:v2"),
            ("argoproj/argosay", "v2")
        );
        assert_eq!(image_repository("python@sha256:abc"), ("python", ""));
    }

    #[test]
    fn kinds() {
        assert_eq!(image_kind("busybox"), ImageKind::Shell);
        assert_eq!(image_kind("alpine:3.23"), ImageKind::Shell);
        assert_eq!(
            image_kind("argoproj/argosay:v2"),
            ImageKind::Argosay { v1: false }
        );
        assert_eq!(
            image_kind("argoproj/argosay:v1"),
            ImageKind::Argosay { v1: true }
        );
        assert_eq!(image_kind("docker/whalesay:latest"), ImageKind::Whalesay);
        assert_eq!(image_kind("python:alpine3.23"), ImageKind::Python);
        assert_eq!(
            image_kind("tensorflow/tensorflow:2.15.0-gpu"),
            ImageKind::Unknown
        );
    }

    #[test]
    fn argv_follows_entrypoint_rules() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            toolbox_argv(
                ImageKind::Shell,
                &s(&["/bin/sh", "-c"]),
                &s(&["echo hi"]),
                None
            ),
            s(&["sh", "-c", "echo hi"])
        );
        assert_eq!(
            toolbox_argv(
                ImageKind::Argosay { v1: false },
                &[],
                &s(&["echo", "x"]),
                None
            ),
            s(&["argosay", "echo", "x"])
        );
        assert_eq!(
            toolbox_argv(ImageKind::Argosay { v1: false }, &[], &[], None),
            s(&["argosay"])
        );
        assert_eq!(
            toolbox_argv(ImageKind::Whalesay, &s(&["cowsay"]), &s(&["hello"]), None),
            s(&["cowsay", "hello"])
        );
        assert_eq!(
            toolbox_argv(ImageKind::Shell, &s(&["bash"]), &[], Some(SCRIPT_PATH)),
            s(&["sh", SCRIPT_PATH])
        );
        assert_eq!(toolbox_argv(ImageKind::Shell, &[], &[], None), s(&["sh"]));
    }
}

#[cfg(test)]
mod placement_tests {
    use super::*;

    fn template(yaml: &str) -> Template {
        serde_yaml::from_str(yaml).expect("template")
    }

    fn on_cluster(p: &Placement) -> bool {
        matches!(p, Placement::Kubernetes { .. })
    }

    #[test]
    fn extended_resources_need_the_cluster_with_or_without_one() {
        let t = template(
            "name: train\ncontainer: {image: python:3.12, resources: {limits: {nvidia.com/gpu: 1}}}\n",
        );
        assert!(on_cluster(&place(&t, ExecutorChoice::Auto, true)));
        assert!(on_cluster(&place(&t, ExecutorChoice::Auto, false)));
        assert_eq!(place(&t, ExecutorChoice::Local, false), Placement::Local);
    }

    #[test]
    fn node_selectors_and_tolerations_pick_the_cluster_only_when_there_is_one() {
        for body in [
            "nodeSelector: {kubernetes.io/arch: amd64}",
            "tolerations: [{key: dedicated, operator: Exists}]",
        ] {
            let t = template(&format!(
                "name: arch\n{body}\ncontainer: {{image: alpine:3.23, command: [uname]}}\n"
            ));
            assert!(on_cluster(&place(&t, ExecutorChoice::Auto, true)), "{body}");
            assert_eq!(
                place(&t, ExecutorChoice::Auto, false),
                Placement::Local,
                "{body}"
            );
            let unknown = template(&format!(
                "name: arch\n{body}\ncontainer: {{image: registry.example/tool:1, command: [run]}}\n"
            ));
            assert!(
                on_cluster(&place(&unknown, ExecutorChoice::Auto, false)),
                "{body}"
            );
        }
    }

    #[test]
    fn the_annotation_wins_and_unknown_images_need_a_cluster() {
        let t = template(
            "name: a\nmetadata: {annotations: {skiff.dev/executor: kubernetes}}\ncontainer: {image: busybox}\n",
        );
        assert!(on_cluster(&place(&t, ExecutorChoice::Local, false)));
        let t = template("name: b\ncontainer: {image: registry.example/tool:1}\n");
        assert!(on_cluster(&place(&t, ExecutorChoice::Auto, true)));
        match place(&t, ExecutorChoice::Auto, false) {
            Placement::Nowhere { message } => {
                assert!(message.contains("registry.example/tool:1"), "{message}");
                assert!(message.contains("skiff.dev/executor"), "{message}");
            }
            other => panic!("expected Nowhere, got {other:?}"),
        }
    }
}
