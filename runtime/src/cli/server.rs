//! `skiff server`: serves the Argo Server REST API and the web UI (see [`crate::server`]) until Ctrl-C or
//! SIGTERM, then stops the runs it started (their exit handlers run) and waits for them.
//!
//! The first line on stdout is `skiff server listening on http://ADDR:PORT`, printed once the port is
//! bound (scripts and tests read it to find a port picked with `--port 0`).

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::cli::CliError;
use crate::server::{DEFAULT_MAX_BODY_BYTES, ServerConfig, serve};

/// Arguments of `skiff server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The address to listen on (only this machine by default).
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: IpAddr,
    /// The port (Argo Server's by default; 0 picks a free one).
    #[arg(long, default_value_t = 2746, value_name = "PORT")]
    pub port: u16,
    /// Every API request must carry `Authorization: Bearer TOKEN` (or the cookie `authorization`).
    #[arg(
        long,
        env = "SKIFF_SERVER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub auth_token: Option<String>,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES, value_name = "N")]
    pub max_body_bytes: usize,
    /// Workflows running at once, at most; more wait, Pending (default: 4 per CPU, at least 8).
    #[arg(long, value_name = "N")]
    pub max_running: Option<usize>,
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `skiff server`.
///
/// # Errors
/// [`CliError::Internal`] when the store, the engine or the address cannot be had.
pub fn run(args: ServerArgs, home: PathBuf) -> Result<(), CliError> {
    let mut config = ServerConfig::new(home);
    config.bind = args.bind;
    config.port = args.port;
    config.token = args.auth_token.filter(|t| !t.is_empty());
    config.max_body_bytes = args.max_body_bytes;
    if let Some(n) = args.max_running {
        config.max_running = n.max(1);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime
        .block_on(serve(
            config,
            |addr| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "skiff server listening on http://{addr}");
                let _ = out.flush();
            },
            async {
                stop_signal().await;
                eprintln!("skiff server: stopping; runs still going are stopped");
            },
        ))
        .map_err(|e| CliError::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn the_server_listens_on_this_machine_only_unless_told_otherwise() {
        let cli = Cli::try_parse_from(["skiff", "server"]).unwrap();
        let Command::Server(args) = cli.command else {
            panic!("not the server command");
        };
        assert!(args.bind.is_loopback(), "{}", args.bind);
        assert_eq!(args.max_body_bytes, crate::server::DEFAULT_MAX_BODY_BYTES);
    }
}
