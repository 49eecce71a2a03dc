//! Where the client finds the server's URL and API key.
//!
//! First found wins, separately for the URL and the key:
//! 1. the `--url` / `--key` flags;
//! 2. the `INTAKE_URL` / `INTAKE_KEY` environment variables;
//! 3. the client config file (`--client-config`, `INTAKE_CLIENT_CONFIG`, or
//!    `$XDG_CONFIG_HOME/intake/client.toml`, else `~/.config/intake/client.toml`)
//!    with the keys `url` and `key`;
//! 4. for the key only, `<data dir>/admin.key` (`INTAKE_DATA_DIR`, else
//!    `./intake-data`), so that `intake serve` followed by `intake upload x.pdf`
//!    on the same laptop needs no setup at all.
//!
//! The URL defaults to [`DEFAULT_URL`]. Resolution reads its inputs from an
//! [`Inputs`] value so that tests pass explicit paths and variables instead of
//! mutating the process environment.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use reqwest::Url;
use serde::Deserialize;

/// The URL used when no flag, variable or config file names one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Connection flags shared by every client command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// Base URL of the intake server.
    #[arg(long, env = "INTAKE_URL", value_name = "URL")]
    pub url: Option<String>,
    /// API key, sent as `Authorization: Bearer <key>`.
    #[arg(long, env = "INTAKE_KEY", value_name = "KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Client config file (TOML with `url` and `key`).
    #[arg(long, env = "INTAKE_CLIENT_CONFIG", value_name = "PATH")]
    pub client_config: Option<PathBuf>,
}

/// Where a resolved value came from; shown in error hints (for example on 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    ConfigFile(PathBuf),
    KeyFile(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "the {flag} flag"),
            Source::Env(var) => write!(f, "${var}"),
            Source::ConfigFile(path) => write!(f, "client config {}", path.display()),
            Source::KeyFile(path) => write!(f, "key file {}", path.display()),
            Source::Default => write!(f, "the built-in default"),
        }
    }
}

/// A resolved server address and key. `Debug` never shows the key.
#[derive(Clone)]
pub struct Connection {
    pub url: Url,
    pub key: String,
    pub url_source: Source,
    pub key_source: Source,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url.as_str())
            .field("key", &"<redacted>")
            .field("url_source", &self.url_source)
            .field("key_source", &self.key_source)
            .finish()
    }
}

/// Everything resolution looks at.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub flag_url: Option<String>,
    pub flag_key: Option<String>,
    pub env_url: Option<String>,
    pub env_key: Option<String>,
    /// A config file the user named: it must exist.
    pub explicit_config: Option<PathBuf>,
    /// The per-user default config file: skipped when absent.
    pub default_config: Option<PathBuf>,
    /// The server's data directory, holding `admin.key`.
    pub data_dir: PathBuf,
}

impl Inputs {
    /// Gathers the inputs from parsed flags and the process environment.
    ///
    /// clap already copies `INTAKE_URL`/`INTAKE_KEY` into the flags; a flag
    /// equal to its variable is attributed to the variable so hints name the
    /// place the user actually set it.
    pub fn from_process(args: &ServerArgs) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let env_url = var("INTAKE_URL");
        let env_key = var("INTAKE_KEY");
        let flag_url = args.url.clone().filter(|v| Some(v) != env_url.as_ref());
        let flag_key = args.key.clone().filter(|v| Some(v) != env_key.as_ref());
        let explicit_config = args
            .client_config
            .clone()
            .or_else(|| var("INTAKE_CLIENT_CONFIG").map(PathBuf::from));
        let default_config = default_config_path(var("XDG_CONFIG_HOME"), var("HOME"));
        let data_dir =
            var("INTAKE_DATA_DIR").map_or_else(|| PathBuf::from("./intake-data"), PathBuf::from);
        Inputs {
            flag_url,
            flag_key,
            env_url,
            env_key,
            explicit_config,
            default_config,
            data_dir,
        }
    }
}

/// `$XDG_CONFIG_HOME/intake/client.toml`, else `$HOME/.config/intake/client.toml`.
/// A relative `XDG_CONFIG_HOME` is ignored, as the XDG spec asks.
pub fn default_config_path(
    xdg_config_home: Option<String>,
    home: Option<String>,
) -> Option<PathBuf> {
    let base = xdg_config_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("intake").join("client.toml"))
}

/// The client config file's shape. Unknown keys are refused so that a typo
/// (`ur1 = …`) is reported instead of silently falling back to the default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    url: Option<String>,
    key: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Loads the config file to use, if any, with its path.
fn load_config(inputs: &Inputs) -> anyhow::Result<Option<(PathBuf, ConfigFile)>> {
    let (path, must_exist) = match (&inputs.explicit_config, &inputs.default_config) {
        (Some(path), _) => (path, true),
        (None, Some(path)) => (path, false),
        (None, None) => return Ok(None),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read client config {}", path.display()));
        }
    };
    let file: ConfigFile = toml::from_str(&text)
        .with_context(|| format!("invalid client config {}", path.display()))?;
    Ok(Some((path.clone(), file)))
}

/// Resolves the URL and key, first found wins (see the module doc).
pub fn resolve(inputs: &Inputs) -> anyhow::Result<Connection> {
    let config = load_config(inputs)?;
    let (config_path, config) = match config {
        Some((path, file)) => (Some(path), file),
        None => (None, ConfigFile::default()),
    };
    let from_config = |value: Option<String>| {
        non_empty(value).and_then(|v| config_path.clone().map(|p| (v, Source::ConfigFile(p))))
    };

    let (url_text, url_source) = non_empty(inputs.flag_url.clone())
        .map(|v| (v, Source::Flag("--url")))
        .or_else(|| non_empty(inputs.env_url.clone()).map(|v| (v, Source::Env("INTAKE_URL"))))
        .or_else(|| from_config(config.url.clone()))
        .unwrap_or_else(|| (DEFAULT_URL.to_owned(), Source::Default));
    let url = parse_url(&url_text)
        .with_context(|| format!("invalid server URL {url_text:?} from {url_source}"))?;

    let key_file = inputs.data_dir.join("admin.key");
    let found = non_empty(inputs.flag_key.clone())
        .map(|v| (v, Source::Flag("--key")))
        .or_else(|| non_empty(inputs.env_key.clone()).map(|v| (v, Source::Env("INTAKE_KEY"))))
        .or_else(|| from_config(config.key.clone()));
    let (key, key_source) = match found {
        Some(found) => found,
        None => match read_key_file(&key_file)? {
            Some(key) => (key, Source::KeyFile(key_file)),
            None => bail!("{}", missing_key_message(inputs, &key_file)),
        },
    };
    Ok(Connection {
        url,
        key,
        url_source,
        key_source,
    })
}

/// Reads `admin.key`; absent means "not here", unreadable is an error.
fn read_key_file(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(non_empty(Some(text))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read key file {}", path.display())),
    }
}

fn missing_key_message(inputs: &Inputs, key_file: &Path) -> String {
    let config = match (&inputs.explicit_config, &inputs.default_config) {
        (Some(p), _) | (None, Some(p)) => format!("`key` in client config {}", p.display()),
        (None, None) => "a client config file (no $XDG_CONFIG_HOME or $HOME to find it)".to_owned(),
    };
    format!(
        "no API key found; looked at --key, $INTAKE_KEY, {config}, and {} \
         (the key `intake serve` writes into its data directory, set by $INTAKE_DATA_DIR)",
        key_file.display()
    )
}

/// Accepts `http(s)://host[:port][/prefix]`; a missing scheme is an error
/// rather than a guess, since `Url` would read `localhost:8080` as a scheme.
fn parse_url(text: &str) -> anyhow::Result<Url> {
    let url = Url::parse(text).context("not a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("the scheme must be http or https");
    }
    if url.host_str().is_none() {
        bail!("the URL has no host");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(dir: &Path) -> Inputs {
        Inputs {
            default_config: Some(dir.join("config/intake/client.toml")),
            data_dir: dir.join("data"),
            ..Inputs::default()
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn flag_beats_env_beats_config_beats_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut inp = inputs(dir.path());
        write(&dir.path().join("data/admin.key"), "filekey\n");
        let c = resolve(&inp).expect("key file");
        assert_eq!(
            (c.key.as_str(), c.url.as_str()),
            ("filekey", "http://127.0.0.1:8080/")
        );
        assert_eq!(
            c.key_source,
            Source::KeyFile(dir.path().join("data/admin.key"))
        );
        assert_eq!(c.url_source, Source::Default);

        write(
            inp.default_config.as_ref().expect("path"),
            "url = \"https://cfg.example\"\nkey = \"cfgkey\"\n",
        );
        let c = resolve(&inp).expect("config");
        assert_eq!(
            (c.key.as_str(), c.url.as_str()),
            ("cfgkey", "https://cfg.example/")
        );
        assert!(matches!(c.key_source, Source::ConfigFile(_)));

        inp.env_key = Some("envkey".into());
        inp.env_url = Some("http://env.example:9000".into());
        let c = resolve(&inp).expect("env");
        assert_eq!(
            (c.key.as_str(), c.url.as_str()),
            ("envkey", "http://env.example:9000/")
        );
        assert_eq!(c.key_source, Source::Env("INTAKE_KEY"));

        inp.flag_key = Some("flagkey".into());
        inp.flag_url = Some("http://flag.example/prefix".into());
        let c = resolve(&inp).expect("flag");
        assert_eq!(
            (c.key.as_str(), c.url.as_str()),
            ("flagkey", "http://flag.example/prefix")
        );
        assert_eq!(c.url_source, Source::Flag("--url"));
    }

    #[test]
    fn url_and_key_resolve_independently_and_blanks_are_absent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut inp = inputs(dir.path());
        write(
            inp.default_config.as_ref().expect("path"),
            "url = \"http://cfg:1\"\n",
        );
        inp.env_key = Some("  ".into());
        inp.flag_key = Some("k".into());
        inp.flag_url = Some(String::new());
        let c = resolve(&inp).expect("resolve");
        assert_eq!(c.url.as_str(), "http://cfg:1/");
        assert_eq!(c.key, "k");
    }

    #[test]
    fn missing_key_names_every_place_looked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inp = inputs(dir.path());
        let err = resolve(&inp).expect_err("no key").to_string();
        for needle in [
            "--key",
            "$INTAKE_KEY",
            "client.toml",
            "admin.key",
            "INTAKE_DATA_DIR",
        ] {
            assert!(err.contains(needle), "{needle} missing from {err}");
        }
    }

    #[test]
    fn explicit_config_must_exist_default_may_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut inp = inputs(dir.path());
        inp.flag_key = Some("k".into());
        assert!(resolve(&inp).is_ok());
        inp.explicit_config = Some(dir.path().join("nope.toml"));
        let err = format!("{:#}", resolve(&inp).expect_err("missing explicit config"));
        assert!(err.contains("nope.toml"), "{err}");
    }

    #[test]
    fn bad_config_and_bad_urls_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut inp = inputs(dir.path());
        inp.flag_key = Some("k".into());
        write(
            inp.default_config.as_ref().expect("path"),
            "ur1 = \"http://x\"\n",
        );
        let err = format!("{:#}", resolve(&inp).expect_err("typo"));
        assert!(
            err.contains("invalid client config") && err.contains("ur1"),
            "{err}"
        );

        std::fs::remove_file(inp.default_config.as_ref().expect("path")).expect("rm");
        for bad in ["localhost:8080", "ftp://host", "not a url"] {
            inp.flag_url = Some(bad.into());
            let err = format!("{:#}", resolve(&inp).expect_err(bad));
            assert!(
                err.contains("invalid server URL") && err.contains("--url"),
                "{err}"
            );
        }
    }

    #[test]
    fn default_config_path_follows_xdg() {
        let p = default_config_path(Some("/xdg".into()), Some("/home/u".into()));
        assert_eq!(p, Some(PathBuf::from("/xdg/intake/client.toml")));
        let p = default_config_path(Some("relative".into()), Some("/home/u".into()));
        assert_eq!(p, Some(PathBuf::from("/home/u/.config/intake/client.toml")));
        assert_eq!(default_config_path(None, None), None);
    }

    #[test]
    fn debug_redacts_the_key() {
        let c = Connection {
            url: Url::parse(DEFAULT_URL).expect("url"),
            key: "secret-key".into(),
            url_source: Source::Default,
            key_source: Source::Flag("--key"),
        };
        assert!(!format!("{c:?}").contains("secret-key"));
    }
}
