//! intake: one binary, many subcommands. `serve` runs the service; `admin`
//! manages a data directory; `upload` and `files` are the client.

mod admin;
mod config;
mod serve;

use clap::{Args, Parser, Subcommand};
use config::{Config, LogFormat, Overrides};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "intake",
    version,
    about = "File and document intake: streaming uploads, checks, storage"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct ServerArgs {
    /// A TOML configuration file (see `intake config example`).
    #[arg(long, env = "INTAKE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Where the catalog and blobs live [default: ./intake-data].
    #[arg(long, env = "INTAKE_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The catalog in PostgreSQL, shared by several nodes: postgres://user:password@host/db
    /// [default: SQLite in the data directory].
    #[arg(
        long,
        env = "INTAKE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Most connections this node opens to PostgreSQL [default: 16].
    #[arg(long, env = "INTAKE_DATABASE_MAX_CONNECTIONS", global = true)]
    database_max_connections: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        #[command(flatten)]
        server: ServerArgs,
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "INTAKE_LISTEN")]
        listen: Option<String>,
        /// The admin API key to create (or accept) instead of a generated one.
        #[arg(long, env = "INTAKE_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
    },
    /// Manage tenants, projects, keys and users in a data directory.
    Admin {
        #[command(flatten)]
        server: ServerArgs,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Upload files to a running server.
    Upload(intake_client::UploadArgs),
    /// List, download and delete files on a running server.
    #[command(subcommand)]
    Files(intake_client::FilesCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented configuration file with every default.
    Example,
    /// Print the configuration in force (file, environment and flags applied).
    Show {
        #[command(flatten)]
        server: ServerArgs,
    },
}

fn load(server: &ServerArgs, listen: Option<String>) -> anyhow::Result<Config> {
    let overrides = Overrides {
        data_dir: server.data_dir.clone(),
        listen,
        database_url: server.database_url.clone(),
        database_max_connections: server.database_max_connections,
    };
    Config::load(server.config.as_deref(), &overrides)
}

fn init_logging(config: &Config) {
    let filter = std::env::var("INTAKE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| config.log.filter.clone());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            server,
            listen,
            admin_key,
        } => {
            let config = load(&server, listen)?;
            init_logging(&config);
            serve::run(config, admin_key.filter(|k| !k.is_empty())).await
        }
        Command::Admin { server, command } => admin::run(load(&server, None)?, command).await,
        Command::Upload(args) => intake_client::upload(args).await,
        Command::Files(command) => intake_client::files(command).await,
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Config(ConfigCommand::Show { server }) => {
            print!(
                "{}",
                toml::to_string_pretty(&load(&server, None)?.redacted())?
            );
            Ok(())
        }
    }
}

/// Disk work (blob batches, fsyncs, inspection) runs on tokio's blocking
/// pool. Its default of 512 threads let a thousand uploads finishing at once
/// start hundreds of threads, each with its stack and allocator arena (bench
/// workload 3); a few dozen keep the disk as busy as it can be.
const BLOCKING_THREADS: usize = 64;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
