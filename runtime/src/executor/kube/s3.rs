//! An S3-compatible artifact repository, the way pod steps' large data travels: its configuration (Argo's
//! `artifactRepository` shape), its credentials, SigV4 presigned URLs, and skiff's own uploads and
//! downloads through them.
//!
//! This module owns the repository's side of a pod step: which keys a step's artifacts get, the URLs the
//! pod is given (an init container downloads the inputs, the wait sidecar uploads the outputs), and the
//! transfers skiff makes itself before the pod is created and after it ends. It does not shape the pod
//! ([`super::pod`]) nor follow it ([`super::exec`]).
//!
//! # The file
//!
//! `$SKIFF_ARTIFACT_REPOSITORY` (a path), else `<SKIFF_HOME>/artifact-repository.yaml`; without either,
//! data goes through the API server as before. Its shape is Argo's `artifactRepository` (the value of an
//! `artifact-repositories` config map's key; the controller config's `artifactRepository:` key around it
//! is accepted too):
//!
//! ```yaml
//! s3:
//!   endpoint: minio.example:9000     # host[:port], no scheme
//!   bucket: ml-artifacts
//!   insecure: true                   # http; default false: https
//!   region: us-east-1                # the default
//!   keyPrefix: skiff                 # optional
//!   accessKeySecret: {name: minio-cred, key: accesskey}
//!   secretKeySecret: {name: minio-cred, key: secretkey}
//!   sessionTokenSecret: {name: minio-cred, key: token}   # optional
//! ```
//!
//! Credentials: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) from skiff's
//! environment when both are set, else the named Secrets, read from the pods' namespace through the
//! cluster's API. Argo's `keyFormat`, `createBucketIfNotPresent` and `archiveLogs` are accepted and
//! ignored; `useSDKCreds`, `roleARN`, `caSecret` and `encryptionOptions` are refused, since skiff would
//! not honour them.
//!
//! # Keys and URLs
//!
//! A step's input `k` is stored at `<keyPrefix>/<run>/<node id>/inputs/i<k>` (a directory as a tar), its
//! output artifact `name` at `<keyPrefix>/<run>/<node id>/outputs/<name>.tar`. URLs are path-style
//! (`http(s)://endpoint/bucket/key`) and signed with AWS Signature Version 4 in the query string
//! (`UNSIGNED-PAYLOAD`), so the pod needs no credentials, only `curl`.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use k8s_openapi::api::core::v1::Secret;
use serde_yaml::Value;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use super::pod::PodInput;
use crate::executor::OutputArtifact;

/// The environment variable naming the repository's file.
pub const REPOSITORY_ENV: &str = "SKIFF_ARTIFACT_REPOSITORY";
/// The repository's file under skiff's home, when [`REPOSITORY_ENV`] is not set.
pub const REPOSITORY_FILE: &str = "artifact-repository.yaml";
/// How long the pod's URLs stay valid when its step has no deadline.
pub const DEFAULT_URL_EXPIRY: Duration = Duration::from_secs(12 * 3600);
/// The longest a SigV4 presigned URL may live: seven days.
pub const MAX_URL_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// The region when the file names none.
const DEFAULT_REGION: &str = "us-east-1";
/// The fields of Argo's S3 repository skiff accepts and ignores.
const IGNORED_FIELDS: [&str; 2] = ["keyFormat", "createBucketIfNotPresent"];
/// The fields of Argo's S3 repository skiff refuses: it would not do what they ask.
const REFUSED_FIELDS: [&str; 4] = ["useSDKCreds", "roleARN", "caSecret", "encryptionOptions"];
/// The fields skiff reads.
const FIELDS: [&str; 8] = [
    "endpoint",
    "bucket",
    "insecure",
    "region",
    "keyPrefix",
    "accessKeySecret",
    "secretKeySecret",
    "sessionTokenSecret",
];

type HmacSha256 = Hmac<Sha256>;

/// What goes wrong with the artifact repository.
#[derive(Debug, Error)]
pub enum RepositoryError {
    /// The repository's file could not be read.
    #[error("cannot read the artifact repository's file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: io::Error,
    },
    /// The file is not a repository skiff can use.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field, as a YAML path (`s3.bucket`).
        field: String,
        /// What is wrong, and what to do.
        message: String,
    },
    /// No credentials could be found.
    #[error("no credentials for the artifact repository of {path}: {message}")]
    Credentials {
        /// The repository's file.
        path: PathBuf,
        /// Why, and what to do.
        message: String,
    },
    /// An upload or a download failed.
    #[error("{method} {url}: {message}")]
    Transfer {
        /// `PUT` or `GET`.
        method: &'static str,
        /// The object's URL, without its signature.
        url: String,
        /// What the repository (or the network) said, and what to do.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The IO error.
        #[source]
        source: io::Error,
    },
}

/// A key of a Kubernetes Secret: `{name, key}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key in its `data`.
    pub key: String,
}

/// An S3-compatible repository, as its file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRepository {
    /// The file it was read from (named in errors).
    pub file: PathBuf,
    /// `host[:port]`, the scheme's default port left out (clients leave it out of the `Host` header,
    /// which is signed).
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// `http` rather than `https`.
    pub insecure: bool,
    /// The region signatures are made for (`us-east-1` unless given).
    pub region: String,
    /// Prepended to every key, without leading or trailing `/`; may be empty.
    pub key_prefix: String,
    /// The access key id's Secret.
    pub access_key_secret: Option<SecretKeyRef>,
    /// The secret access key's Secret.
    pub secret_key_secret: Option<SecretKeyRef>,
    /// The session token's Secret, for temporary credentials.
    pub session_token_secret: Option<SecretKeyRef>,
}

impl ArtifactRepository {
    /// The repository of `$SKIFF_ARTIFACT_REPOSITORY`, else of `home/artifact-repository.yaml`; `None`
    /// when neither is there.
    ///
    /// # Errors
    /// [`RepositoryError::Read`] when the variable names a file that cannot be read,
    /// [`RepositoryError::Invalid`] when the file is not a repository skiff can use.
    pub fn discover(home: &Path) -> Result<Option<Self>, RepositoryError> {
        discover_from(std::env::var_os(REPOSITORY_ENV).map(PathBuf::from), home)
    }

    /// The repository of `path`.
    ///
    /// # Errors
    /// As [`ArtifactRepository::discover`].
    pub fn load(path: &Path) -> Result<Self, RepositoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| RepositoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The repository of `text`, read from `file`.
    ///
    /// # Errors
    /// [`RepositoryError::Invalid`], naming the field.
    pub fn parse(text: &str, file: &Path) -> Result<Self, RepositoryError> {
        let invalid = |field: &str, message: String| RepositoryError::Invalid {
            path: file.to_path_buf(),
            field: field.to_string(),
            message,
        };
        let doc: Value = serde_yaml::from_str(text)
            .map_err(|e| invalid("(the file)", format!("not YAML: {e}")))?;
        // The controller config's `artifactRepository:` key, or the repository itself.
        let (root, at) = match doc.get("artifactRepository") {
            Some(inner) => (inner, "artifactRepository."),
            None => (&doc, ""),
        };
        let field = |name: &str| format!("{at}{name}");
        let Some(s3) = root.get("s3") else {
            let others: Vec<String> = root
                .as_mapping()
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let had = if others.is_empty() {
                String::new()
            } else {
                format!(" (this file has {})", others.join(", "))
            };
            return Err(invalid(
                &field("s3"),
                format!(
                    "missing: skiff reads S3-compatible repositories only (s3: {{endpoint, bucket, ...}}){had}"
                ),
            ));
        };
        let s3_field = |name: &str| field(&format!("s3.{name}"));
        let Some(map) = s3.as_mapping() else {
            return Err(invalid(&field("s3"), "expected a mapping".to_string()));
        };
        for key in map.keys() {
            let Some(key) = key.as_str() else {
                return Err(invalid(
                    &field("s3"),
                    format!("a key that is not a string: {key:?}"),
                ));
            };
            if REFUSED_FIELDS.contains(&key) {
                return Err(invalid(
                    &s3_field(key),
                    "not supported by skiff: give the credentials in AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY, or in accessKeySecret and secretKeySecret, and use an \
                     endpoint whose certificate a public CA signed (or `insecure: true`)"
                        .to_string(),
                ));
            }
            if !FIELDS.contains(&key) && !IGNORED_FIELDS.contains(&key) {
                return Err(invalid(
                    &s3_field(key),
                    format!("unknown field; skiff reads {}", FIELDS.join(", ")),
                ));
            }
        }
        let string = |name: &str| -> Result<Option<String>, RepositoryError> {
            match s3.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(invalid(
                    &s3_field(name),
                    format!("expected a string, found {}", kind(other)),
                )),
            }
        };
        let required = |name: &str| -> Result<String, RepositoryError> {
            match string(name)? {
                Some(s) if !s.is_empty() => Ok(s),
                _ => Err(invalid(&s3_field(name), "missing: give it".to_string())),
            }
        };
        let secret = |name: &str| -> Result<Option<SecretKeyRef>, RepositoryError> {
            let Some(value) = s3.get(name).filter(|v| !v.is_null()) else {
                return Ok(None);
            };
            let part = |part: &str| match value.get(part) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                _ => Err(invalid(
                    &s3_field(&format!("{name}.{part}")),
                    "missing: a Secret key is {name: SECRET, key: KEY}".to_string(),
                )),
            };
            Ok(Some(SecretKeyRef {
                name: part("name")?,
                key: part("key")?,
            }))
        };

        let endpoint = required("endpoint")?;
        if endpoint.contains("://") {
            return Err(invalid(
                &s3_field("endpoint"),
                format!(
                    "'{endpoint}': give host[:port] without a scheme; `insecure: true` picks http"
                ),
            ));
        }
        if endpoint.contains(['/', '?', '#', ' ']) {
            return Err(invalid(
                &s3_field("endpoint"),
                format!("'{endpoint}': give host[:port] only, without a path"),
            ));
        }
        let insecure = match s3.get("insecure") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(
                    &s3_field("insecure"),
                    format!("expected true or false, found {}", kind(other)),
                ));
            }
        };
        let default_port = if insecure { ":80" } else { ":443" };
        let endpoint = endpoint
            .strip_suffix(default_port)
            .unwrap_or(&endpoint)
            .to_string();
        let bucket = required("bucket")?;
        if bucket.contains('/') {
            return Err(invalid(
                &s3_field("bucket"),
                format!("'{bucket}': a bucket's name has no '/' (a key prefix goes in keyPrefix)"),
            ));
        }
        let region = string("region")?
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        let key_prefix = string("keyPrefix")?
            .unwrap_or_default()
            .trim_matches('/')
            .to_string();
        Ok(Self {
            file: file.to_path_buf(),
            endpoint,
            bucket,
            insecure,
            region,
            key_prefix,
            access_key_secret: secret("accessKeySecret")?,
            secret_key_secret: secret("secretKeySecret")?,
            session_token_secret: secret("sessionTokenSecret")?,
        })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.insecure { "http" } else { "https" }
    }

    /// The key of `name` (`inputs/i0`, `outputs/model.tar`) for a node of a run, under the prefix.
    pub fn key(&self, run: &str, node_id: &str, name: &str) -> String {
        let mut key = String::new();
        if !self.key_prefix.is_empty() {
            key.push_str(&self.key_prefix);
            key.push('/');
        }
        key.push_str(&format!("{run}/{node_id}/{name}"));
        key
    }

    /// The object's path-style URL, unsigned: what messages show.
    pub fn object_url(&self, key: &str) -> String {
        format!(
            "{}://{}/{}/{}",
            self.scheme(),
            self.endpoint,
            uri_encode(&self.bucket, false),
            uri_encode(key, true)
        )
    }
}

/// [`ArtifactRepository::discover`] with the variable's value given.
fn discover_from(
    env: Option<PathBuf>,
    home: &Path,
) -> Result<Option<ArtifactRepository>, RepositoryError> {
    match env.filter(|p| !p.as_os_str().is_empty()) {
        Some(path) => ArtifactRepository::load(&path).map(Some),
        None => {
            let path = home.join(REPOSITORY_FILE);
            if path.exists() {
                ArtifactRepository::load(&path).map(Some)
            } else {
                Ok(None)
            }
        }
    }
}

/// A YAML value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The keys that sign requests. Its `Debug` shows the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AKIA...`.
    pub access_key_id: String,
    /// The secret.
    pub secret_access_key: String,
    /// For temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` from the environment; `None`
    /// unless the first two are set.
    pub fn from_env() -> Option<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        Some(Self {
            access_key_id: set("AWS_ACCESS_KEY_ID")?,
            secret_access_key: set("AWS_SECRET_ACCESS_KEY")?,
            session_token: set("AWS_SESSION_TOKEN"),
        })
    }

    /// The repository's Secrets, read from `namespace` through `client`.
    ///
    /// # Errors
    /// [`RepositoryError::Credentials`] when the file names no Secrets, or one cannot be read or lacks
    /// its key.
    pub async fn from_secrets(
        client: &kube::Client,
        namespace: &str,
        repository: &ArtifactRepository,
    ) -> Result<Self, RepositoryError> {
        let fail = |message: String| RepositoryError::Credentials {
            path: repository.file.clone(),
            message,
        };
        let (Some(access), Some(secret)) =
            (&repository.access_key_secret, &repository.secret_key_secret)
        else {
            return Err(fail(
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give s3.accessKeySecret and \
                 s3.secretKeySecret (Secrets in the pods' namespace)"
                    .to_string(),
            ));
        };
        let api: kube::Api<Secret> = kube::Api::namespaced(client.clone(), namespace);
        let mut read: BTreeMap<String, Secret> = BTreeMap::new();
        let mut value = async |r: &SecretKeyRef| -> Result<String, RepositoryError> {
            if !read.contains_key(&r.name) {
                let got = api
                    .get(&r.name)
                    .await
                    .map_err(|e| fail(secret_message(&e, &r.name, namespace)))?;
                read.insert(r.name.clone(), got);
            }
            let data = read
                .get(&r.name)
                .and_then(|s| s.data.as_ref())
                .cloned()
                .unwrap_or_default();
            let Some(bytes) = data.get(&r.key) else {
                let keys: Vec<&str> = data.keys().map(String::as_str).collect();
                return Err(fail(format!(
                    "secret {} in namespace {namespace} has no key '{}' (it has: {})",
                    r.name,
                    r.key,
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.join(", ")
                    }
                )));
            };
            // `kubectl create secret --from-file` keeps a file's last newline; keys never hold spaces.
            String::from_utf8(bytes.0.clone())
                .map(|s| s.trim().to_string())
                .map_err(|_| {
                    fail(format!(
                        "secret {} key '{}' is not UTF-8 text",
                        r.name, r.key
                    ))
                })
        };
        let access_key_id = value(access).await?;
        let secret_access_key = value(secret).await?;
        let session_token = match &repository.session_token_secret {
            Some(r) => Some(value(r).await?),
            None => None,
        };
        Ok(Self {
            access_key_id,
            secret_access_key,
            session_token,
        })
    }
}

/// A clear message for a Secret that cannot be read.
fn secret_message(e: &kube::Error, name: &str, namespace: &str) -> String {
    let env = "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    match e {
        kube::Error::Api(s) if s.code == 404 => format!(
            "secret {name} not found in namespace {namespace}: create it (kubectl create secret \
             generic {name} -n {namespace} --from-literal=...), {env}"
        ),
        kube::Error::Api(s) if s.code == 403 => format!(
            "not allowed to read secret {name} in namespace {namespace} (403: {}): the kubeconfig's \
             user needs get on secrets there, {env}",
            s.message
        ),
        other => super::exec::api_message(other, "read secret", name, namespace),
    }
}

/// Where an object is addressed: `endpoint/bucket/key` (what skiff uses: any S3-compatible server
/// answers it) or `bucket.endpoint/key` (AWS's own examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `scheme://endpoint/bucket/key`.
    Path,
    /// `scheme://bucket.endpoint/key`.
    VirtualHosted,
}

/// One URL to sign.
#[derive(Debug, Clone)]
pub struct Presign<'a> {
    /// `GET` or `PUT`.
    pub method: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// `host[:port]`, as the client will send it in `Host`.
    pub endpoint: &'a str,
    /// The bucket.
    pub bucket: &'a str,
    /// The object's key, not encoded.
    pub key: &'a str,
    /// The region.
    pub region: &'a str,
    /// Path-style or virtual-hosted.
    pub addressing: Addressing,
    /// When it is signed.
    pub time: SystemTime,
    /// How long it stays valid (1 s to 7 days).
    pub expires: Duration,
}

/// A URL anyone may use for `method` on the object until it expires: AWS Signature Version 4 in the
/// query string, the payload unsigned, `host` the only signed header.
pub fn presigned_url(p: &Presign<'_>, credentials: &Credentials) -> String {
    let (host, path) = match p.addressing {
        Addressing::Path => (
            p.endpoint.to_string(),
            format!(
                "/{}/{}",
                uri_encode(p.bucket, false),
                uri_encode(p.key, true)
            ),
        ),
        Addressing::VirtualHosted => (
            format!("{}.{}", p.bucket, p.endpoint),
            format!("/{}", uri_encode(p.key, true)),
        ),
    };
    let stamp = amz_date(p.time);
    let day = &stamp[..8];
    let scope = format!("{day}/{}/s3/aws4_request", p.region);
    let expires = p.expires.as_secs().clamp(1, MAX_URL_EXPIRY.as_secs());
    let mut query = vec![
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_string()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", credentials.access_key_id),
        ),
        ("X-Amz-Date", stamp.clone()),
        ("X-Amz-Expires", expires.to_string()),
        ("X-Amz-SignedHeaders", "host".to_string()),
    ];
    if let Some(token) = &credentials.session_token {
        query.push(("X-Amz-Security-Token", token.clone()));
    }
    query.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "{}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD",
        p.method
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", credentials.secret_access_key).as_bytes(),
        day.as_bytes(),
    );
    for part in [p.region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "{}://{host}{path}?{canonical_query}&X-Amz-Signature={signature}",
        p.scheme
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail; were it to, the server refuses the signature.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `20130524T000000Z`.
fn amz_date(time: SystemTime) -> String {
    let t = time::OffsetDateTime::from(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// SigV4's encoding: every byte but `A-Z a-z 0-9 - _ . ~` (and `/` in a path) as `%XX`.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// How long a pod's URLs live: its step's deadline, plus the time the pod may wait to start and a
/// margin, else [`DEFAULT_URL_EXPIRY`]; at most [`MAX_URL_EXPIRY`].
pub fn url_expiry(step_timeout: Option<Duration>, pending_timeout: Duration) -> Duration {
    step_timeout
        .map_or(DEFAULT_URL_EXPIRY, |t| {
            t.saturating_add(pending_timeout)
                .saturating_add(Duration::from_secs(600))
        })
        .min(MAX_URL_EXPIRY)
}

/// One input artifact skiff uploads before the pod is created.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Where it is stored here: a file, or a directory (uploaded as a tar of its contents).
    pub source: PathBuf,
    /// Its key.
    pub key: String,
}

/// What skiff moves through the repository for one pod step.
#[derive(Debug, Clone)]
pub struct RepositoryTransfer {
    /// Signs and moves.
    pub client: RepositoryClient,
    /// Input artifacts, uploaded before the pod is created.
    pub uploads: Vec<Upload>,
    /// The key of each output artifact's tar, in the order of the step's output artifacts.
    pub outputs: Vec<String>,
}

/// What a pod step gets from the repository: the inputs (with the URLs the init container downloads),
/// the URLs the wait sidecar uploads the outputs to, and what skiff moves itself.
#[derive(Debug, Clone)]
pub struct PodTransfer {
    /// The input artifacts, each with its GET URL and no data.
    pub inputs: Vec<PodInput>,
    /// The PUT URL of each output artifact, in order.
    pub output_urls: Vec<String>,
    /// Skiff's side.
    pub transfer: RepositoryTransfer,
}

/// A repository with its credentials: signs URLs, uploads and downloads (blocking: call it from
/// `tokio::task::spawn_blocking`).
#[derive(Clone)]
pub struct RepositoryClient {
    repository: ArtifactRepository,
    credentials: Credentials,
    agent: ureq::Agent,
}

impl fmt::Debug for RepositoryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RepositoryClient")
            .field("repository", &self.repository)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl RepositoryClient {
    /// A client of `repository` signing with `credentials`. Proxies come from the environment
    /// (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`); a transfer that stalls for a minute fails.
    pub fn new(repository: ArtifactRepository, credentials: Credentials) -> Self {
        let agent = ureq::Agent::config_builder()
            .proxy(ureq::Proxy::try_from_env())
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .user_agent(format!("skiff/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self {
            repository,
            credentials,
            agent,
        }
    }

    /// The repository.
    pub fn repository(&self) -> &ArtifactRepository {
        &self.repository
    }

    /// A path-style presigned URL for `method` on `key`, signed at `time`.
    pub fn presign(&self, method: &str, key: &str, time: SystemTime, expires: Duration) -> String {
        let r = &self.repository;
        presigned_url(
            &Presign {
                method,
                scheme: r.scheme(),
                endpoint: &r.endpoint,
                bucket: &r.bucket,
                key,
                region: &r.region,
                addressing: Addressing::Path,
                time,
                expires,
            },
            &self.credentials,
        )
    }

    /// The keys and URLs of a pod step: input artifact `j` (`(stored here, path in the pod)`) becomes
    /// pod input `first_index + j`; the URLs, signed now, expire after `expires`.
    pub fn pod_transfer(
        &self,
        run: &str,
        node_id: &str,
        first_index: usize,
        input_artifacts: &[(PathBuf, String)],
        output_artifacts: &[OutputArtifact],
        expires: Duration,
    ) -> PodTransfer {
        let (r, time) = (&self.repository, SystemTime::now());
        let mut inputs = Vec::with_capacity(input_artifacts.len());
        let mut uploads = Vec::with_capacity(input_artifacts.len());
        for (j, (stored, path)) in input_artifacts.iter().enumerate() {
            let key = r.key(run, node_id, &format!("inputs/i{}", first_index + j));
            inputs.push(PodInput {
                path: path.clone(),
                data: Vec::new(),
                is_dir: stored.is_dir(),
                url: Some(self.presign("GET", &key, time, expires)),
            });
            uploads.push(Upload {
                source: stored.clone(),
                key,
            });
        }
        let outputs: Vec<String> = output_artifacts
            .iter()
            .map(|a| r.key(run, node_id, &format!("outputs/{}.tar", a.name)))
            .collect();
        let output_urls = outputs
            .iter()
            .map(|key| self.presign("PUT", key, time, expires))
            .collect();
        PodTransfer {
            inputs,
            output_urls,
            transfer: RepositoryTransfer {
                client: self.clone(),
                uploads,
                outputs,
            },
        }
    }

    /// Uploads `source` (a file, or a directory as a tar of its contents) to `key`; its size in bytes.
    ///
    /// # Errors
    /// [`RepositoryError::Io`] when the source cannot be read, [`RepositoryError::Transfer`] when the
    /// repository refuses it or cannot be reached.
    pub fn upload(&self, source: &Path, key: &str) -> Result<u64, RepositoryError> {
        let io = |what: &str| {
            let what = format!("{what} {}", source.display());
            move |source| RepositoryError::Io { what, source }
        };
        let file = if source.is_dir() {
            let mut tar = tar::Builder::new(tempfile::tempfile().map_err(io("cannot tar"))?);
            tar.follow_symlinks(false);
            tar.append_dir_all(".", source).map_err(io("cannot tar"))?;
            let mut file = tar.into_inner().map_err(io("cannot tar"))?;
            file.rewind().map_err(io("cannot tar"))?;
            file
        } else {
            File::open(source).map_err(io("cannot read"))?
        };
        let size = file.metadata().map_err(io("cannot read"))?.len();
        let url = self.presign("PUT", key, SystemTime::now(), Duration::from_secs(3600));
        let response = self
            .agent
            .put(&url)
            .send(file)
            .map_err(|e| self.transfer_error("PUT", key, &e))?;
        self.check("PUT", key, response)?;
        Ok(size)
    }

    /// Downloads `key` into `out`; its size in bytes.
    ///
    /// # Errors
    /// [`RepositoryError::Transfer`] when the object is not there, the repository refuses, or the
    /// transfer breaks off; [`RepositoryError::Io`] when `out` cannot be written.
    pub fn download(&self, key: &str, out: &mut impl Write) -> Result<u64, RepositoryError> {
        let url = self.presign("GET", key, SystemTime::now(), Duration::from_secs(3600));
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| self.transfer_error("GET", key, &e))?;
        let mut response = self.check("GET", key, response)?;
        let mut reader = response.body_mut().as_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(RepositoryError::Transfer {
                        method: "GET",
                        url: self.repository.object_url(key),
                        message: format!("the download broke off after {total} bytes: {e}"),
                    });
                }
            };
            out.write_all(&buf[..n])
                .map_err(|source| RepositoryError::Io {
                    what: format!("cannot save {}", self.repository.object_url(key)),
                    source,
                })?;
            total += n as u64;
        }
        Ok(total)
    }

    /// The response when it is a success, else its status and S3's `<Code>` and `<Message>` as an error.
    fn check(
        &self,
        method: &'static str,
        key: &str,
        mut response: http::Response<ureq::Body>,
    ) -> Result<http::Response<ureq::Body>, RepositoryError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = body.find(&open)? + open.len();
            let end = body[start..].find(&format!("</{name}>"))? + start;
            Some(body[start..end].to_string())
        };
        let said = [tag("Code"), tag("Message")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        let r = &self.repository;
        let hint = match (status.as_u16(), tag("Code").as_deref()) {
            (_, Some("NoSuchBucket")) => format!(
                "; the bucket {} does not exist on {}: create it, or fix s3.bucket in {}",
                r.bucket,
                r.endpoint,
                r.file.display()
            ),
            (404, _) if method == "GET" => {
                "; the object is not there (the pod did not upload it)".to_string()
            }
            (403, _) | (400, Some("AuthorizationHeaderMalformed")) => format!(
                "; the repository refused skiff's signature: check the credentials and s3.region \
                 ({}) in {}",
                r.region,
                r.file.display()
            ),
            (code, _) if code >= 500 => "; the repository failed: try again".to_string(),
            _ => String::new(),
        };
        Err(RepositoryError::Transfer {
            method,
            url: r.object_url(key),
            message: if said.is_empty() {
                format!("HTTP {status}{hint}")
            } else {
                format!("HTTP {status} ({said}){hint}")
            },
        })
    }

    /// A network failure in words: the URL without its signature, and what to look at.
    fn transfer_error(&self, method: &'static str, key: &str, e: &ureq::Error) -> RepositoryError {
        let r = &self.repository;
        let message = match e {
            ureq::Error::HostNotFound => format!(
                "the host of {} could not be resolved: is s3.endpoint in {} right, and reachable from \
                 this machine?",
                r.endpoint,
                r.file.display()
            ),
            ureq::Error::ConnectionFailed => format!(
                "no connection could be made to {}: is the repository up, and reachable from this \
                 machine (and is s3.insecure right)?",
                r.endpoint
            ),
            ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => format!(
                "{} refused the connection ({io}): is the repository up, and reachable from this \
                 machine?",
                r.endpoint
            ),
            ureq::Error::Timeout(t) => format!("it timed out ({t})"),
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) => format!(
                "the TLS connection failed ({e}); an endpoint without a certificate from a public CA \
                 needs `insecure: true` (http)"
            ),
            other => other.to_string(),
        };
        RepositoryError::Transfer {
            method,
            url: r.object_url(key),
            message,
        }
    }
}

/// A fake S3-compatible server for tests: a thread answering `PUT` and `GET` of `/bucket/key` on a local
/// port, keeping bodies in a map, refusing requests that carry no `X-Amz-Signature`.
#[cfg(test)]
pub(crate) mod fake {
    use std::collections::HashMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    /// The server's state.
    #[derive(Debug, Default)]
    pub(crate) struct State {
        /// Bodies by path (`/bucket/key`).
        pub(crate) objects: HashMap<String, Vec<u8>>,
        /// What was asked, in order: `METHOD /path?query`.
        pub(crate) requests: Vec<String>,
        /// Answer every request with this status and S3 code.
        pub(crate) fail: Option<(u16, &'static str)>,
    }

    /// A running fake.
    #[derive(Debug, Clone)]
    pub(crate) struct FakeS3 {
        /// `127.0.0.1:PORT`.
        pub(crate) endpoint: String,
        pub(crate) state: Arc<Mutex<State>>,
    }

    impl FakeS3 {
        pub(crate) fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let endpoint = listener.local_addr().expect("addr").to_string();
            let state = Arc::new(Mutex::new(State::default()));
            let shared = state.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let state = shared.clone();
                    std::thread::spawn(move || serve(stream, &state));
                }
            });
            Self { endpoint, state }
        }

        /// The object at `/bucket/key`.
        pub(crate) fn object(&self, path: &str) -> Option<Vec<u8>> {
            self.state.lock().expect("lock").objects.get(path).cloned()
        }

        /// Stores `body` as a `PUT` of `url` would (a presigned URL of this server).
        pub(crate) fn put_url(&self, url: &str, body: Vec<u8>) {
            let rest = url.split_once("://").expect("scheme").1;
            let target = &rest[rest.find('/').expect("path")..];
            let (path, query) = target.split_once('?').expect("query");
            assert!(query.contains("X-Amz-Signature="), "{url}");
            assert!(
                url.starts_with(&format!("http://{}/", self.endpoint)),
                "{url}"
            );
            let mut state = self.state.lock().expect("lock");
            state.requests.push(format!("PUT {target}"));
            state.objects.insert(path.to_string(), body);
        }
    }

    fn serve(stream: TcpStream, state: &Mutex<State>) {
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut parts = line.split_whitespace();
            let (method, target) = (
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").to_string(),
            );
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 {
                    return;
                }
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let (code, reply) = {
                let mut s = state.lock().expect("lock");
                s.requests.push(format!("{method} {target}"));
                if let Some((code, what)) = s.fail {
                    (code, error_xml(what))
                } else if !query.contains("X-Amz-Signature=") {
                    (403, error_xml("AccessDenied"))
                } else if method == "PUT" {
                    s.objects.insert(path.to_string(), body);
                    (200, Vec::new())
                } else if method == "GET" {
                    match s.objects.get(path) {
                        Some(data) => (200, data.clone()),
                        None => (404, error_xml("NoSuchKey")),
                    }
                } else {
                    (405, error_xml("MethodNotAllowed"))
                }
            };
            let head = format!(
                "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nContent-Type: application/xml\r\n\r\n",
                reply.len()
            );
            if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&reply).is_err() {
                return;
            }
        }
    }

    fn error_xml(code: &str) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>told \
             to fail</Message></Error>"
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeS3;
    use super::*;

    fn aws_example_credentials() -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_string(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string(),
            session_token: None,
        }
    }

    /// 2013-05-24T00:00:00Z.
    fn may_24_2013() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
    }

    fn example(addressing: Addressing, method: &'static str) -> Presign<'static> {
        Presign {
            method,
            scheme: "https",
            endpoint: "s3.amazonaws.com",
            bucket: "examplebucket",
            key: "test.txt",
            region: "us-east-1",
            addressing,
            time: may_24_2013(),
            expires: Duration::from_secs(86400),
        }
    }

    /// AWS's documented example of a presigned GET ("Authenticating Requests: Using Query Parameters").
    #[test]
    fn sigv4_matches_the_aws_documented_presigned_url() {
        let url = presigned_url(
            &example(Addressing::VirtualHosted, "GET"),
            &aws_example_credentials(),
        );
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt\
             ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn path_style_urls_sign_the_path_and_the_method_and_carry_a_session_token() {
        let creds = aws_example_credentials();
        let url = presigned_url(&example(Addressing::Path, "GET"), &creds);
        assert!(
            url.starts_with("https://s3.amazonaws.com/examplebucket/test.txt?X-Amz-Algorithm="),
            "{url}"
        );
        let signature = |url: &str| {
            url.rsplit_once("X-Amz-Signature=")
                .map(|(_, s)| s.to_string())
        };
        let virtual_hosted = presigned_url(&example(Addressing::VirtualHosted, "GET"), &creds);
        assert_ne!(signature(&url), signature(&virtual_hosted));
        let put = presigned_url(&example(Addressing::Path, "PUT"), &creds);
        assert_ne!(signature(&url), signature(&put));

        let mut p = example(Addressing::Path, "PUT");
        p.key = "skiff/run a/n+1/outputs/m.tar";
        let with_token = Credentials {
            session_token: Some("tok/en=".to_string()),
            ..creds
        };
        let url = presigned_url(&p, &with_token);
        assert!(
            url.starts_with(
                "https://s3.amazonaws.com/examplebucket/skiff/run%20a/n%2B1/outputs/m.tar?"
            ),
            "{url}"
        );
        assert!(url.contains("&X-Amz-Security-Token=tok%2Fen%3D&"), "{url}");
        assert_eq!(signature(&url).map(|s| s.len()), Some(64));
    }

    fn parse(yaml: &str) -> Result<ArtifactRepository, RepositoryError> {
        ArtifactRepository::parse(yaml, Path::new("/home/me/.skiff/artifact-repository.yaml"))
    }

    fn error(yaml: &str) -> String {
        parse(yaml).expect_err("invalid").to_string()
    }

    #[test]
    fn the_file_is_argos_artifact_repository_shape() {
        let r = parse(
            "s3:
  endpoint: minio.example:9000
  bucket: ml
  insecure: true
  keyPrefix: /skiff/runs/
  keyFormat: '{{workflow.name}}'
  accessKeySecret: {name: minio-cred, key: accesskey}
  secretKeySecret: {name: minio-cred, key: secretkey}
",
        )
        .expect("parses");
        assert_eq!(r.endpoint, "minio.example:9000");
        assert_eq!(r.bucket, "ml");
        assert!(r.insecure);
        assert_eq!(r.scheme(), "http");
        assert_eq!(r.region, "us-east-1");
        assert_eq!(r.key_prefix, "skiff/runs");
        assert_eq!(
            r.access_key_secret,
            Some(SecretKeyRef {
                name: "minio-cred".to_string(),
                key: "accesskey".to_string()
            })
        );
        assert_eq!(r.session_token_secret, None);
        assert_eq!(
            r.key("wf-1", "wf-1-42", "inputs/i0"),
            "skiff/runs/wf-1/wf-1-42/inputs/i0"
        );
        assert_eq!(
            r.object_url("skiff/runs/wf-1/wf-1-42/inputs/i0"),
            "http://minio.example:9000/ml/skiff/runs/wf-1/wf-1-42/inputs/i0"
        );

        // The controller config's key around it; https, its default port left out; no prefix.
        let r = parse(
            "artifactRepository:\n  archiveLogs: true\n  s3: {endpoint: 's3.example.com:443', bucket: b, region: eu-west-1}\n",
        )
        .expect("parses");
        assert_eq!(r.endpoint, "s3.example.com");
        assert_eq!(r.scheme(), "https");
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.key("r", "n", "outputs/m.tar"), "r/n/outputs/m.tar");
        assert_eq!(r.access_key_secret, None);
    }

    #[test]
    fn a_bad_file_names_itself_and_the_field() {
        let file = "/home/me/.skiff/artifact-repository.yaml";
        let e = error("s3: {endpoint: minio:9000}\n");
        assert_eq!(e, format!("{file}: s3.bucket: missing: give it"));
        let e = error("s3: {endpoint: 'http://minio:9000', bucket: b}\n");
        assert!(
            e.starts_with(&format!(
                "{file}: s3.endpoint: 'http://minio:9000': give host[:port] without a scheme"
            )),
            "{e}"
        );
        let e = error("s3: {endpoint: minio, bucket: b, insecure: yes please}\n");
        assert!(
            e.starts_with(&format!("{file}: s3.insecure: expected true or false")),
            "{e}"
        );
        let e = error("s3: {endpoint: minio, bucket: b, accessKeySecret: {name: c}}\n");
        assert!(
            e.starts_with(&format!("{file}: s3.accessKeySecret.key: missing")),
            "{e}"
        );
        let e = error("s3: {endpoint: minio, bucket: b, useSDKCreds: true}\n");
        assert!(
            e.starts_with(&format!("{file}: s3.useSDKCreds: not supported by skiff")),
            "{e}"
        );
        let e = error("s3: {endpoint: minio, bucket: b, bukket: c}\n");
        assert!(
            e.starts_with(&format!(
                "{file}: s3.bukket: unknown field; skiff reads endpoint, bucket"
            )),
            "{e}"
        );
        let e = error("gcs: {bucket: b}\n");
        assert!(
            e.starts_with(&format!(
                "{file}: s3: missing: skiff reads S3-compatible repositories only"
            )),
            "{e}"
        );
        assert!(e.ends_with("(this file has gcs)"), "{e}");
        let e = error("s3: [a]\n");
        assert_eq!(e, format!("{file}: s3: expected a mapping"));
        let e = error("s3: {endpoint: [x], bucket: b}\n");
        assert_eq!(
            e,
            format!("{file}: s3.endpoint: expected a string, found a list")
        );
        let e = error("s3: {endpoint: minio\n");
        assert!(
            e.starts_with(&format!("{file}: (the file): not YAML")),
            "{e}"
        );
    }

    #[test]
    fn discovery_takes_the_variable_then_the_home_file() {
        let home = tempfile::tempdir().expect("tempdir");
        assert_eq!(discover_from(None, home.path()).expect("none"), None);
        let missing = home.path().join("nope.yaml");
        let e = discover_from(Some(missing.clone()), home.path()).expect_err("missing");
        assert!(
            e.to_string().starts_with(&format!(
                "cannot read the artifact repository's file {}:",
                missing.display()
            )),
            "{e}"
        );
        std::fs::write(
            home.path().join(REPOSITORY_FILE),
            "s3: {endpoint: home, bucket: b}\n",
        )
        .expect("write");
        let found = discover_from(Some(PathBuf::new()), home.path()).expect("found");
        assert_eq!(found.map(|r| r.endpoint), Some("home".to_string()));
        let other = home.path().join("other.yaml");
        std::fs::write(&other, "s3: {endpoint: other, bucket: b}\n").expect("write");
        let found = discover_from(Some(other), home.path()).expect("found");
        assert_eq!(found.map(|r| r.endpoint), Some("other".to_string()));
    }

    #[test]
    fn credentials_from_the_environment_need_both_keys() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_string())
            }
        };
        assert_eq!(
            Credentials::from_vars(vars(&[("AWS_ACCESS_KEY_ID", "a")])),
            None
        );
        let c = Credentials::from_vars(vars(&[
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", ""),
        ]))
        .expect("both set");
        assert_eq!(c.access_key_id, "a");
        assert_eq!(c.session_token, None);
        assert!(!format!("{c:?}").contains("secret_access_key"), "{c:?}");
    }

    #[test]
    fn urls_live_as_long_as_the_step_may() {
        let pending = Duration::from_secs(300);
        assert_eq!(url_expiry(None, pending), DEFAULT_URL_EXPIRY);
        assert_eq!(
            url_expiry(Some(Duration::from_secs(3600)), pending),
            Duration::from_secs(3600 + 300 + 600)
        );
        assert_eq!(url_expiry(Some(Duration::MAX), pending), MAX_URL_EXPIRY);
    }

    fn client(fake: &FakeS3) -> RepositoryClient {
        let repository = ArtifactRepository::parse(
            &format!(
                "s3: {{endpoint: '{}', bucket: ml, insecure: true, keyPrefix: skiff}}",
                fake.endpoint
            ),
            Path::new("repo.yaml"),
        )
        .expect("parses");
        RepositoryClient::new(repository, aws_example_credentials())
    }

    #[test]
    fn files_and_directories_go_up_and_come_back_through_presigned_urls() {
        let fake = FakeS3::start();
        let client = client(&fake);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("data.csv");
        std::fs::write(&file, b"x,y\n1,2\n").expect("write");
        assert_eq!(
            client.upload(&file, "skiff/r/n/inputs/i0").expect("upload"),
            8
        );
        assert_eq!(
            fake.object("/ml/skiff/r/n/inputs/i0").as_deref(),
            Some(&b"x,y\n1,2\n"[..])
        );
        let mut back = Vec::new();
        assert_eq!(
            client
                .download("skiff/r/n/inputs/i0", &mut back)
                .expect("download"),
            8
        );
        assert_eq!(back, b"x,y\n1,2\n");

        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("sub")).expect("mkdir");
        std::fs::write(tree.join("sub/a.txt"), b"a").expect("write");
        client
            .upload(&tree, "skiff/r/n/inputs/i1")
            .expect("upload dir");
        let tar = fake.object("/ml/skiff/r/n/inputs/i1").expect("stored");
        let mut names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .expect("tar")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        assert!(names.iter().any(|n| n.ends_with("sub/a.txt")), "{names:?}");

        let requests = fake.state.lock().expect("lock").requests.clone();
        assert!(
            requests.iter().all(|r| r.contains("X-Amz-Signature=")),
            "{requests:?}"
        );
        assert!(
            requests[0]
                .starts_with("PUT /ml/skiff/r/n/inputs/i0?X-Amz-Algorithm=AWS4-HMAC-SHA256&")
        );
    }

    #[test]
    fn refusals_and_missing_objects_are_clear_and_keep_the_signature_out() {
        let fake = FakeS3::start();
        let client = client(&fake);
        let e = client
            .download("skiff/r/n/outputs/m.tar", &mut Vec::new())
            .expect_err("missing")
            .to_string();
        let url = format!("http://{}/ml/skiff/r/n/outputs/m.tar", fake.endpoint);
        assert_eq!(
            e,
            format!(
                "GET {url}: HTTP 404 Not Found (NoSuchKey: told to fail); the object is not there (the pod did not upload it)"
            )
        );
        fake.state.lock().expect("lock").fail = Some((403, "SignatureDoesNotMatch"));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").expect("write");
        let e = client
            .upload(&file, "skiff/r/n/inputs/i0")
            .expect_err("refused")
            .to_string();
        assert!(
            e.starts_with(&format!(
                "PUT http://{}/ml/skiff/r/n/inputs/i0: HTTP 403 Forbidden (SignatureDoesNotMatch",
                fake.endpoint
            )),
            "{e}"
        );
        assert!(e.contains("refused skiff's signature: check the credentials and s3.region (us-east-1) in repo.yaml"), "{e}");
        assert!(!e.contains("X-Amz"), "{e}");
        fake.state.lock().expect("lock").fail = Some((404, "NoSuchBucket"));
        let e = client
            .upload(&file, "k")
            .expect_err("no bucket")
            .to_string();
        assert!(e.contains("the bucket ml does not exist"), "{e}");

        let e = client
            .upload(&dir.path().join("absent"), "k")
            .expect_err("absent")
            .to_string();
        assert!(e.starts_with("cannot read "), "{e}");

        // Nothing listening.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let down = ArtifactRepository::parse(
            &format!("s3: {{endpoint: '127.0.0.1:{port}', bucket: ml, insecure: true}}"),
            Path::new("repo.yaml"),
        )
        .expect("parses");
        let e = RepositoryClient::new(down, aws_example_credentials())
            .upload(&file, "k")
            .expect_err("down")
            .to_string();
        assert!(
            e.starts_with(&format!("PUT http://127.0.0.1:{port}/ml/k: ")),
            "{e}"
        );
        assert!(e.contains("reachable from this machine"), "{e}");
    }
}
