//! Finding the cluster, as kubectl finds it: `--kubeconfig`, else `KUBECONFIG` (a list of files, merged),
//! else `~/.kube/config`, else the pod's own service account when skiff runs inside a cluster. `--context`
//! picks a context other than the current one; `-n/--namespace` a namespace other than the context's
//! (`default` when it names none).

use std::path::{Path, PathBuf};

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

/// Where the cluster is, as the user chose it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `--kubeconfig`: this file, and no other.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: a context of the kubeconfig other than its current one.
    pub context: Option<String>,
    /// `-n/--namespace`: the namespace pods are created in.
    pub namespace: Option<String>,
}

/// What went wrong talking to the cluster. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// No kubeconfig and not inside a cluster.
    #[error(
        "no cluster is configured: no --kubeconfig, no KUBECONFIG, no {home_config}, and skiff is not running inside a cluster; point KUBECONFIG at a cluster's kubeconfig (kind, k3d and cloud clusters write one), or run the steps locally"
    )]
    NotConfigured {
        /// The default kubeconfig path looked at.
        home_config: String,
    },
    /// The kubeconfig could not be read or does not name a usable context.
    #[error("cannot use the kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file(s).
        path: String,
        /// Why.
        message: String,
    },
    /// The client could not be built.
    #[error("cannot reach the cluster: {0}")]
    Client(String),
    /// The API server answered with an error.
    #[error("{0}")]
    Api(String),
}

impl ClusterConfig {
    /// The kubeconfig files that apply, in kubectl's order; empty when none does.
    pub fn kubeconfig_paths(&self) -> Vec<PathBuf> {
        if let Some(path) = &self.kubeconfig {
            return vec![path.clone()];
        }
        if let Some(value) = std::env::var_os("KUBECONFIG") {
            let paths: Vec<PathBuf> = std::env::split_paths(&value)
                .filter(|p| !p.as_os_str().is_empty() && p.is_file())
                .collect();
            // kubectl skips the files of the list that do not exist, and so does skiff.
            if !paths.is_empty() {
                return paths;
            }
        }
        default_kubeconfig()
            .filter(|p| p.is_file())
            .into_iter()
            .collect()
    }

    /// Whether skiff runs inside a cluster (a service account token and the API server's address).
    fn in_cluster() -> bool {
        std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
            && Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").is_file()
    }

    /// Whether a cluster is configured at all: the routing question, answered without reading the files.
    pub fn is_configured(&self) -> bool {
        !self.kubeconfig_paths().is_empty() || Self::in_cluster()
    }

    /// The client's configuration, with the namespace pods go to.
    ///
    /// # Errors
    /// [`KubeError::NotConfigured`], [`KubeError::Kubeconfig`].
    pub async fn load(&self) -> Result<Config, KubeError> {
        let paths = self.kubeconfig_paths();
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..KubeConfigOptions::default()
        };
        let mut config = if paths.is_empty() {
            if !Self::in_cluster() {
                return Err(KubeError::NotConfigured {
                    home_config: default_kubeconfig()
                        .map_or_else(|| "~/.kube/config".to_string(), |p| p.display().to_string()),
                });
            }
            if self.context.is_some() {
                return Err(KubeError::Kubeconfig {
                    path: "(in-cluster)".to_string(),
                    message: "--context needs a kubeconfig".to_string(),
                });
            }
            Config::incluster().map_err(|e| KubeError::Kubeconfig {
                path: "(in-cluster service account)".to_string(),
                message: e.to_string(),
            })?
        } else {
            let shown = paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(":");
            let bad = |message: String| KubeError::Kubeconfig {
                path: shown.clone(),
                message,
            };
            let mut merged = Kubeconfig::default();
            for path in &paths {
                let one = Kubeconfig::read_from(path)
                    .map_err(|e| bad(format!("{}: {e}", path.display())))?;
                merged = merged.merge(one).map_err(|e| bad(e.to_string()))?;
            }
            if let Some(context) = &self.context
                && !merged.contexts.iter().any(|c| &c.name == context)
            {
                let known: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(bad(format!(
                    "it has no context '{context}' (it has: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            Config::from_custom_kubeconfig(merged, &options)
                .await
                .map_err(|e| bad(e.to_string()))?
        };
        if let Some(ns) = &self.namespace {
            config.default_namespace.clone_from(ns);
        }
        Ok(config)
    }

    /// A client for the cluster, and the namespace pods are created in.
    ///
    /// # Errors
    /// As [`ClusterConfig::load`], and [`KubeError::Client`].
    pub async fn client(&self) -> Result<(kube::Client, String), KubeError> {
        let config = self.load().await?;
        let namespace = config.default_namespace.clone();
        let client =
            kube::Client::try_from(config).map_err(|e| KubeError::Client(e.to_string()))?;
        Ok((client, namespace))
    }
}

/// `~/.kube/config`.
fn default_kubeconfig() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join(".kube").join("config"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}
- name: gpu
  cluster: {server: 'https://10.0.0.1:6443', insecure-skip-tls-verify: true}
contexts:
- name: dev
  context: {cluster: dev, user: me}
- name: gpu
  context: {cluster: gpu, user: me, namespace: training}
users:
- name: me
  user: {token: abc}
";

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn the_current_context_and_its_namespace_or_default() {
        let f = file(KUBECONFIG);
        let config = ClusterConfig {
            kubeconfig: Some(f.path().to_path_buf()),
            ..ClusterConfig::default()
        };
        assert!(config.is_configured());
        let loaded = rt().block_on(config.load()).unwrap();
        assert_eq!(loaded.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(loaded.default_namespace, "default");
    }

    #[test]
    fn context_and_namespace_flags_win() {
        let f = file(KUBECONFIG);
        let mut config = ClusterConfig {
            kubeconfig: Some(f.path().to_path_buf()),
            context: Some("gpu".to_string()),
            namespace: None,
        };
        let loaded = rt().block_on(config.load()).unwrap();
        assert_eq!(loaded.cluster_url.to_string(), "https://10.0.0.1:6443/");
        assert_eq!(loaded.default_namespace, "training");
        config.namespace = Some("ml".to_string());
        assert_eq!(
            rt().block_on(config.load()).unwrap().default_namespace,
            "ml"
        );
    }

    #[test]
    fn an_unknown_context_names_the_ones_there_are() {
        let f = file(KUBECONFIG);
        let config = ClusterConfig {
            kubeconfig: Some(f.path().to_path_buf()),
            context: Some("prod".to_string()),
            namespace: None,
        };
        let e = rt().block_on(config.load()).unwrap_err().to_string();
        assert!(e.contains("no context 'prod' (it has: dev, gpu)"), "{e}");
        assert!(e.contains(&f.path().display().to_string()), "{e}");
    }

    #[test]
    fn a_broken_kubeconfig_is_an_error_naming_the_file() {
        let f = file("clusters: [unclosed");
        let config = ClusterConfig {
            kubeconfig: Some(f.path().to_path_buf()),
            ..ClusterConfig::default()
        };
        let e = rt().block_on(config.load()).unwrap_err().to_string();
        assert!(e.contains(&f.path().display().to_string()), "{e}");
    }
}
