//! Configuration: one typed struct, read from the environment in this one place.
//! Secrets never appear in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/hocvuso.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_KEY_FILE: &str = "data/hocvuso.key";

/// Where the data lives, chosen by the URL's scheme. An unknown scheme is an error, never a new file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                bail!("DATABASE_URL \"{raw}\": give a file path, e.g. sqlite://data/hocvuso.db");
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        bail!(
            "DATABASE_URL phải bắt đầu bằng sqlite:, postgres:// hoặc postgresql:// / \
             DATABASE_URL must start with sqlite:, postgres:// or postgresql:// (got scheme \"{}\")",
            raw.split(':').next().unwrap_or_default()
        )
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            // A PostgreSQL URL may carry a password.
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "{parsed}")
                }
                Err(_) => f.write_str("postgres://(unparsable)"),
            },
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The 32-byte key that encrypts and hashes citizen numbers.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn parse_hex(raw: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(raw.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .context("HOCVUSO_DATA_KEY phải là 64 ký tự hex (32 byte) / must be 64 hex characters (32 bytes)")?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(Self(key))
    }

    pub fn generate() -> Self {
        use rand::RngCore;
        let mut key = [0u8; 32];
        // ThreadRng is a CSPRNG seeded from the operating system.
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn read_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the data key {}", path.display()))?;
        Self::parse_hex(&text)
    }

    /// Writes a new key with mode 0600 (owner only).
    pub fn create_file(path: &Path) -> anyhow::Result<Self> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let key = Self::generate();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating the data key {}", path.display()))?;
        writeln!(file, "{}", key.to_hex())?;
        file.sync_all()?;
        Ok(key)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

/// Where the data key came from, so commands can tell the operator.
#[derive(Debug, Clone)]
pub enum KeySource {
    Environment,
    File(PathBuf),
    Missing(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    /// The absolute address used in links and QR codes.
    pub public_url: url::Url,
    pub data_key: Option<DataKey>,
    pub key_source: KeySource,
    /// The media store: a local folder or an object-store URL.
    pub media_url: String,
    /// Login through VNeID; `None` when `HOCVUSO_OIDC_ISSUER` is not set.
    pub oidc: Option<OidcConfig>,
    /// Delivery of certificate confirmations to VNeID; `None` when `HOCVUSO_VNEID_CONFIRM_URL` is not set.
    pub vneid_confirm: Option<ConfirmConfig>,
    /// Public certificate lookups (verify page, API, PDF) allowed per client address and minute.
    pub public_lookups_per_minute: std::num::NonZeroU32,
    /// The reverse proxies whose `X-Forwarded-For` / `Forwarded` name the client (`HOCVUSO_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// An OpenAI-compatible chat endpoint that rephrases the assistant's passages; `None` (the default)
    /// when `HOCVUSO_ASSISTANT_LLM_URL` is not set.
    pub assistant_llm: Option<LlmConfig>,
}

/// The assistant's optional language model: `HOCVUSO_ASSISTANT_LLM_URL` (the API's base, e.g.
/// `http://10.0.0.5:8000/v1`; `/chat/completions` is added), `HOCVUSO_ASSISTANT_LLM_MODEL` (default
/// `default`), `HOCVUSO_ASSISTANT_LLM_KEY` (a bearer token, optional, never printed) and
/// `HOCVUSO_ASSISTANT_LLM_TIMEOUT_MS` (default 2000; past it the passages are answered as they are).
#[derive(Clone)]
pub struct LlmConfig {
    pub url: url::Url,
    pub model: String,
    pub key: Option<String>,
    pub timeout: std::time::Duration,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url.as_str())
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl LlmConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(raw) = get("HOCVUSO_ASSISTANT_LLM_URL").filter(|v| !v.trim().is_empty()) else { return Ok(None) };
        let mut url = url::Url::parse(raw.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("HOCVUSO_ASSISTANT_LLM_URL \"{raw}\" is not an absolute http(s) address"))?;
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let url = url.join("chat/completions").context("HOCVUSO_ASSISTANT_LLM_URL")?;
        let timeout = match get("HOCVUSO_ASSISTANT_LLM_TIMEOUT_MS") {
            None => 2000,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=60_000).contains(n))
                .with_context(|| format!("HOCVUSO_ASSISTANT_LLM_TIMEOUT_MS must be 1 to 60000 (got \"{v}\")"))?,
        };
        Ok(Some(Self {
            url,
            model: get("HOCVUSO_ASSISTANT_LLM_MODEL").unwrap_or_else(|| "default".into()),
            key: get("HOCVUSO_ASSISTANT_LLM_KEY"),
            timeout: std::time::Duration::from_millis(timeout),
        }))
    }
}

/// Parses `HOCVUSO_TRUSTED_PROXIES`: addresses or CIDR ranges separated by commas or spaces; the
/// error is the first part that is neither.
pub fn parse_trusted_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, String> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| part.parse::<std::net::IpAddr>().map(|ip| ipnet::IpNet::from(ip.to_canonical())))
                .map_err(|_| part.to_owned())
        })
        .collect()
}

/// `HOCVUSO_PUBLIC_LOOKUPS_PER_MINUTE` when unset: far above what a person or an office checking
/// certificates needs, and people behind one carrier address (CGNAT) still share it comfortably.
pub const DEFAULT_PUBLIC_LOOKUPS_PER_MINUTE: u32 = 120;

/// Where and how confirmations are sent (contract in `docs/vneid-confirm.md`).
#[derive(Clone)]
pub struct ConfirmConfig {
    pub url: url::Url,
    /// Sent as `Authorization: Bearer …` when set.
    pub token: Option<String>,
    /// How long one request may take; a claim's lease is three times this.
    pub timeout: std::time::Duration,
    /// Tries before a confirmation is marked failed (then an officer may retry it).
    pub max_attempts: i64,
}

impl fmt::Debug for ConfirmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmConfig")
            .field("url", &self.url.as_str())
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl ConfirmConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(raw) = get("HOCVUSO_VNEID_CONFIRM_URL") else { return Ok(None) };
        let url = url::Url::parse(raw.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("HOCVUSO_VNEID_CONFIRM_URL \"{raw}\" is not an absolute http(s) address"))?;
        let number = |name: &str, default: u64, max: u64| -> anyhow::Result<u64> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .with_context(|| format!("{name} must be a whole number from 1 to {max} (got \"{v}\")")),
            }
        };
        Ok(Some(Self {
            url,
            token: get("HOCVUSO_VNEID_CONFIRM_TOKEN"),
            timeout: std::time::Duration::from_secs(number("HOCVUSO_VNEID_CONFIRM_TIMEOUT_SECONDS", 10, 300)?),
            max_attempts: number("HOCVUSO_VNEID_CONFIRM_MAX_ATTEMPTS", 8, 100)? as i64,
        }))
    }
}

/// The OpenID Connect relying party's settings. VNeID's claim names are not public, hence configurable.
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_url: url::Url,
    /// 1 or 2: the identity level a login needs.
    pub required_level: u8,
    pub cccd_claim: String,
    pub level_claim: String,
    pub scopes: Vec<String>,
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_url", &self.redirect_url.as_str())
            .field("required_level", &self.required_level)
            .field("cccd_claim", &self.cccd_claim)
            .field("level_claim", &self.level_claim)
            .finish()
    }
}

impl OidcConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>, public_url: &url::Url) -> anyhow::Result<Option<Self>> {
        let Some(issuer) = get("HOCVUSO_OIDC_ISSUER") else { return Ok(None) };
        let required = |name: &str| {
            get(name).with_context(|| format!("HOCVUSO_OIDC_ISSUER is set, so {name} is needed too / cần đặt {name}"))
        };
        let redirect_raw = get("HOCVUSO_OIDC_REDIRECT_URL")
            .unwrap_or_else(|| public_url.join("/dang-nhap/vneid/callback").map(String::from).unwrap_or_default());
        let redirect_url = url::Url::parse(&redirect_raw)
            .with_context(|| format!("HOCVUSO_OIDC_REDIRECT_URL \"{redirect_raw}\" is not an absolute address"))?;
        let required_level = match get("HOCVUSO_OIDC_REQUIRED_LEVEL").as_deref().unwrap_or("2") {
            "1" => 1,
            "2" => 2,
            other => bail!("HOCVUSO_OIDC_REQUIRED_LEVEL must be 1 or 2 (got \"{other}\")"),
        };
        Ok(Some(Self {
            issuer: issuer.trim().to_owned(),
            client_id: required("HOCVUSO_OIDC_CLIENT_ID")?,
            client_secret: required("HOCVUSO_OIDC_CLIENT_SECRET")?,
            redirect_url,
            required_level,
            cccd_claim: get("HOCVUSO_OIDC_CCCD_CLAIM").unwrap_or_else(|| "cccd".into()),
            level_claim: get("HOCVUSO_OIDC_LEVEL_CLAIM").unwrap_or_else(|| "acr".into()),
            scopes: get("HOCVUSO_OIDC_SCOPES")
                .unwrap_or_else(|| "openid vneid".into())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }))
    }
}

impl Config {
    /// Reads `DATABASE_URL`, `HOCVUSO_LISTEN`, `HOCVUSO_PUBLIC_URL`, `HOCVUSO_DATA_KEY`
    /// (or `HOCVUSO_DATA_KEY_FILE`, default `data/hocvuso.key` when that file exists), `HOCVUSO_MEDIA_URL`,
    /// `HOCVUSO_PUBLIC_LOOKUPS_PER_MINUTE`, `HOCVUSO_TRUSTED_PROXIES`, and the `HOCVUSO_OIDC_*` and `HOCVUSO_VNEID_CONFIRM_*` settings.
    pub fn from_env() -> anyhow::Result<Self> {
        #[allow(clippy::disallowed_methods)] // the one place that reads the environment
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let database_url = DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()))?;
        let listen_raw = get("HOCVUSO_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_raw
            .parse()
            .with_context(|| format!("HOCVUSO_LISTEN \"{listen_raw}\" is not an address like 127.0.0.1:8080"))?;
        let public_raw = get("HOCVUSO_PUBLIC_URL").unwrap_or_else(|| format!("http://{listen_raw}"));
        let public_url = url::Url::parse(&public_raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("HOCVUSO_PUBLIC_URL \"{public_raw}\" is not an absolute http(s) address"))?;
        let (data_key, key_source) = match get("HOCVUSO_DATA_KEY") {
            Some(hex) => (Some(DataKey::parse_hex(&hex)?), KeySource::Environment),
            None => {
                let path = PathBuf::from(get("HOCVUSO_DATA_KEY_FILE").unwrap_or_else(|| DEFAULT_KEY_FILE.into()));
                if path.exists() {
                    (Some(DataKey::read_file(&path)?), KeySource::File(path))
                } else {
                    (None, KeySource::Missing(path))
                }
            }
        };
        let media_url = get("HOCVUSO_MEDIA_URL").unwrap_or_else(|| "data/media".into());
        let oidc = OidcConfig::from_lookup(&get, &public_url)?;
        let vneid_confirm = ConfirmConfig::from_lookup(&get)?;
        let public_lookups_per_minute = match get("HOCVUSO_PUBLIC_LOOKUPS_PER_MINUTE") {
            None => std::num::NonZeroU32::new(DEFAULT_PUBLIC_LOOKUPS_PER_MINUTE).expect("not zero"),
            Some(v) => v.trim().parse().with_context(|| {
                format!("HOCVUSO_PUBLIC_LOOKUPS_PER_MINUTE must be a whole number from 1 up (got \"{v}\")")
            })?,
        };
        let trusted_proxies = parse_trusted_proxies(&get("HOCVUSO_TRUSTED_PROXIES").unwrap_or_default()).map_err(|bad| {
            anyhow::anyhow!(
                "HOCVUSO_TRUSTED_PROXIES: \"{bad}\" không phải địa chỉ IP hay dải CIDR / is not an IP address or a CIDR \
                 range (e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
            )
        })?;
        Ok(Self {
            database_url,
            listen,
            public_url,
            data_key,
            key_source,
            media_url,
            oidc,
            vneid_confirm,
            public_lookups_per_minute,
            trusted_proxies,
            assistant_llm: LlmConfig::from_lookup(&get)?,
        })
    }

    pub fn set_database_url(&mut self, raw: &str) -> anyhow::Result<()> {
        self.database_url = DatabaseUrl::parse(raw)?;
        Ok(())
    }

    /// A `--listen` flag wins over HOCVUSO_LISTEN.
    pub fn set_listen(&mut self, raw: Option<&str>) -> anyhow::Result<()> {
        if let Some(raw) = raw {
            self.listen =
                raw.parse().with_context(|| format!("--listen \"{raw}\" is not an address like 127.0.0.1:8080"))?;
        }
        Ok(())
    }

    /// The data key, or a clear error saying how to give one.
    pub fn require_data_key(&self) -> anyhow::Result<DataKey> {
        self.data_key.clone().context(
            "thiếu khóa dữ liệu: đặt HOCVUSO_DATA_KEY (64 ký tự hex) hoặc HOCVUSO_DATA_KEY_FILE / \
             no data key: set HOCVUSO_DATA_KEY (64 hex characters) or HOCVUSO_DATA_KEY_FILE \
             (`hocvuso demo` creates data/hocvuso.key for you)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sqlite_forms_and_postgres_are_accepted() {
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db").unwrap(), DatabaseUrl::Sqlite("data/x.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:data/x.db").unwrap(), DatabaseUrl::Sqlite("data/x.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(), DatabaseUrl::Sqlite("/tmp/x.db".into()));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db").unwrap(), DatabaseUrl::Postgres(_)));
    }

    #[test]
    fn an_unknown_scheme_is_an_error() {
        assert!(DatabaseUrl::parse("mysql://root@localhost/db").is_err());
        assert!(DatabaseUrl::parse("data/hocvuso.db").is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_a_bad_one_is_named() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let nets = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1 ::1  192.168.1.7/16").unwrap();
        assert_eq!(nets.len(), 4);
        assert!(nets[0].contains(&ip("10.20.30.40")) && !nets[0].contains(&ip("11.0.0.1")));
        assert!(nets[3].contains(&ip("192.168.200.1")));
        assert!(parse_trusted_proxies("").unwrap().is_empty());
        assert_eq!(parse_trusted_proxies("10.0.0.0/8, proxy.local"), Err("proxy.local".into()));
        assert_eq!(parse_trusted_proxies("10.0.0.1/33"), Err("10.0.0.1/33".into()));
        let err = Config::from_lookup(|name| (name == "HOCVUSO_TRUSTED_PROXIES").then(|| "10.0.0.0/40".into()));
        assert!(err.unwrap_err().to_string().contains("HOCVUSO_TRUSTED_PROXIES"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let key = DataKey::generate();
        let config = Config::from_lookup(|name| match name {
            "HOCVUSO_DATA_KEY" => Some(key.to_hex()),
            "DATABASE_URL" => Some("postgres://app:hunter2@db/hocvuso".into()),
            "HOCVUSO_OIDC_ISSUER" => Some("https://vneid.example".into()),
            "HOCVUSO_OIDC_CLIENT_ID" => Some("hocvuso".into()),
            "HOCVUSO_OIDC_CLIENT_SECRET" => Some("s3cret-of-the-client".into()),
            _ => None,
        })
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains(&key.to_hex()) && !shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("s3cret-of-the-client") && shown.contains("vneid.example"), "{shown}");
    }
}
