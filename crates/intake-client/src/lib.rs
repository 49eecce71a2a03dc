//! The `intake` command-line client: `intake upload FILE…` and
//! `intake files ls|get|rm|info`, talking to a server's native `/v1` API.
//!
//! This crate holds no `main`: the `intake` binary flattens [`UploadArgs`]
//! and [`FilesCommand`] into its own clap tree and awaits [`upload`] or
//! [`files`]. Both print results on stdout, explanations on stderr, and
//! return an error (for a non-zero exit) when anything failed.
//!
//! Map: `config` finds the URL and key, `api` is the HTTP client and its
//! error type, `upload` and `files`/`download` are the commands, `progress`
//! draws bars and counts streamed bytes.

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
mod download;
mod files;
mod progress;
mod upload;

pub use api::{ApiError, Client, FileInfo, FileList, ListQuery, Problem, UploadResponse};
pub use config::{Connection, DEFAULT_URL, ServerArgs, Source};
pub use download::sanitize_filename;
pub use files::{FilesCommand, files};
pub use upload::{UploadArgs, content_type, upload};

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// The shape the `intake` binary is expected to embed these types in.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Command {
        Upload(UploadArgs),
        #[command(subcommand)]
        Files(FilesCommand),
    }

    #[test]
    fn the_commands_embed_in_a_clap_tree() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "intake",
            "upload",
            "-p",
            "acme",
            "--meta",
            r#"{"a":"b"}"#,
            "--concurrency",
            "2",
            "--url",
            "http://h:1",
            "a.pdf",
            "b.pdf",
        ])
        .expect("upload parses");
        let Command::Upload(args) = cli.command else {
            panic!("not upload: {cli:?}")
        };
        assert_eq!(
            (args.files.len(), args.project.as_str(), args.concurrency),
            (2, "acme", 2)
        );
        assert_eq!(args.server.url.as_deref(), Some("http://h:1"));

        let cli = Cli::try_parse_from([
            "intake", "files", "ls", "--status", "ready", "--all", "--limit", "50",
        ])
        .expect("ls parses");
        assert!(matches!(
            cli.command,
            Command::Files(FilesCommand::Ls {
                all: true,
                limit: Some(50),
                ..
            })
        ));
        assert!(Cli::try_parse_from(["intake", "files", "ls", "--status", "redy"]).is_err());
        assert!(
            Cli::try_parse_from(["intake", "upload"]).is_err(),
            "at least one file"
        );
        assert!(Cli::try_parse_from(["intake", "upload", "--concurrency", "0", "a"]).is_err());
        let cli = Cli::try_parse_from(["intake", "files", "get", "file_1", "-o", "-"])
            .expect("get parses");
        assert!(matches!(
            cli.command,
            Command::Files(FilesCommand::Get {
                output: Some(_),
                force: false,
                ..
            })
        ));
        let cli =
            Cli::try_parse_from(["intake", "files", "rm", "file_1", "file_2"]).expect("rm parses");
        assert!(
            matches!(cli.command, Command::Files(FilesCommand::Rm { ref ids, .. }) if ids.len() == 2)
        );
    }
}
