//! The digital competence framework (Circular 02/2025/TT-BGDĐT + DigComp 2.2 + AI): domains,
//! competences, levels, themes and pass profiles. Every imported version is kept, because results
//! name the version they were graded with; the latest import is the current one.

use std::collections::BTreeSet;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::domain::time::now;
use crate::identity::audit::Actor;
use crate::on_pool;
use crate::store::Store;

pub use crate::store::framework::BUILTIN;

/// Target groups a program or a pass profile can be for.
pub const TARGET_GROUPS: [(&str, &str); 4] = [
    ("nguoi_dan", "Người dân"),
    ("can_bo", "Cán bộ, công chức, viên chức"),
    ("hoc_sinh_sinh_vien", "Học sinh, sinh viên"),
    ("nguoi_lao_dong", "Người lao động, tiểu thương"),
];

pub fn target_group_label(code: &str) -> &'static str {
    TARGET_GROUPS.iter().find(|(c, _)| *c == code).map_or("", |(_, label)| label)
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub version: String,
    #[serde(rename = "level")]
    pub levels: Vec<LevelTier>,
    #[serde(rename = "domain")]
    pub domains: Vec<Domain>,
    #[serde(rename = "theme")]
    pub themes: Vec<Theme>,
    #[serde(rename = "profile", default)]
    pub profiles: Vec<Profile>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelTier {
    pub tier: String,
    pub levels: Vec<u8>,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub competences: Vec<Competence>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Competence {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub code: String,
    pub competences: Vec<String>,
    pub name_vi: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub target_group: String,
    pub required: Vec<String>,
    pub min_level: u8,
    pub pass_share: f64,
    pub min_share_per_competence: f64,
}

impl Framework {
    /// Parses and checks a framework file: every code unique, every reference known, shares in 0..1.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let framework: Framework =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", describe_toml_error(text, &e)))?;
        framework.check()?;
        Ok(framework)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.version.trim().is_empty() {
            bail!("version trống / the version is empty");
        }
        let mut seen = BTreeSet::new();
        for code in self.competences().map(|c| &c.code) {
            if !seen.insert(code.as_str()) {
                bail!("năng lực {code} khai báo hai lần / competence {code} is declared twice");
            }
        }
        let mut levels = BTreeSet::new();
        for tier in &self.levels {
            for level in &tier.levels {
                if !(1..=8).contains(level) || !levels.insert(*level) {
                    bail!("bậc {level} không hợp lệ hoặc lặp lại / level {level} is out of 1..8 or repeated");
                }
            }
        }
        let mut theme_codes = BTreeSet::new();
        for theme in &self.themes {
            if !theme_codes.insert(theme.code.as_str()) {
                bail!("chủ đề {} khai báo hai lần / theme {} is declared twice", theme.code, theme.code);
            }
            for code in &theme.competences {
                if !seen.contains(code.as_str()) {
                    bail!("chủ đề {} nêu năng lực không có: {code} / theme names an unknown competence", theme.code);
                }
            }
        }
        for profile in &self.profiles {
            if !TARGET_GROUPS.iter().any(|(c, _)| *c == profile.target_group) {
                bail!("đối tượng không có: {} / unknown target group", profile.target_group);
            }
            for code in &profile.required {
                if !seen.contains(code.as_str()) {
                    bail!(
                        "tiêu chí của {} nêu năng lực không có: {code} / a profile names an unknown competence",
                        profile.target_group
                    );
                }
            }
            let shares = [profile.pass_share, profile.min_share_per_competence];
            if shares.iter().any(|s| !(0.0..=1.0).contains(s)) || !levels.contains(&profile.min_level) {
                bail!("tiêu chí của {}: tỉ lệ hoặc bậc không hợp lệ / bad share or level", profile.target_group);
            }
        }
        Ok(())
    }

    pub fn competences(&self) -> impl Iterator<Item = &Competence> {
        self.domains.iter().flat_map(|d| d.competences.iter())
    }

    pub fn competence(&self, code: &str) -> Option<&Competence> {
        self.competences().find(|c| c.code == code)
    }

    pub fn theme(&self, code: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.code == code)
    }

    pub fn tier_of(&self, level: u8) -> Option<&LevelTier> {
        self.levels.iter().find(|t| t.levels.contains(&level))
    }
}

/// A TOML error with its line: "dòng 12: …".
pub fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("dòng {line}: {}", error.message())
        }
        None => error.message().to_owned(),
    }
}

/// Stores a new version; an existing version string is refused so results keep meaning what they meant.
/// The version, the change counter and the entry naming `actor` are written in one transaction;
/// `None` only for the built-in framework a new database starts with.
pub async fn import(store: &Store, text: &str, actor: Option<Actor<'_>>) -> anyhow::Result<Framework> {
    let framework = Framework::parse(text)?;
    let inserted = on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO framework_version (version, source, imported_at, seq) \
             SELECT $1, $2, $3, COALESCE(MAX(seq), 0) + 1 FROM framework_version WHERE TRUE \
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(&framework.version)
        .bind(text)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 {
            sqlx::query(BUMP_CHANGE).execute(&mut *tx).await?;
            if let Some(actor) = actor {
                crate::audit_write!(&mut *tx, actor.entry("framework.import", serde_json::json!({"version": framework.version})))?;
            }
            tx.commit().await?;
        }
        inserted
    });
    if inserted == 0 {
        bail!(
            "phiên bản khung {} đã có; hãy đổi `version` / framework version {} already exists; change `version`",
            framework.version,
            framework.version
        );
    }
    Ok(framework)
}

/// The current (latest imported) framework.
pub async fn current(store: &Store) -> anyhow::Result<Framework> {
    let source: String = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT source FROM framework_version ORDER BY seq DESC LIMIT 1"
    ).fetch_one(pool).await?);
    Framework::parse(&source)
}

/// A version as it was imported: results are graded with the version their sitting started under.
pub async fn by_version(store: &Store, version: &str) -> anyhow::Result<Option<Framework>> {
    let source: Option<String> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT source FROM framework_version WHERE version = $1"
    ).bind(version).fetch_optional(pool).await?);
    source.map(|s| Framework::parse(&s)).transpose()
}

/// Imported versions never change (a version is inserted once), so each is parsed once per server.
#[derive(Default)]
pub struct Versions {
    parsed: std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<Framework>>>,
}

impl Versions {
    pub async fn get(&self, store: &Store, version: &str) -> anyhow::Result<Option<std::sync::Arc<Framework>>> {
        if let Some(framework) = self.parsed.read().expect("framework versions").get(version) {
            return Ok(Some(framework.clone()));
        }
        let Some(framework) = by_version(store, version).await?.map(std::sync::Arc::new) else { return Ok(None) };
        self.parsed.write().expect("framework versions").insert(version.to_owned(), framework.clone());
        Ok(Some(framework))
    }
}

impl Framework {
    pub fn profile(&self, target_group: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.target_group == target_group)
    }
}

/// Moves the change counter, so every server rebuilds its catalog and search index.
const BUMP_CHANGE: &str = "UPDATE content_change SET counter = counter + 1 WHERE id = 1";

pub async fn bump_change(store: &Store) -> sqlx::Result<()> {
    on_pool!(store, pool => sqlx::query(BUMP_CHANGE).execute(pool).await.map(|_| ()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_framework_parses() {
        let f = Framework::parse(BUILTIN).unwrap();
        assert_eq!(f.domains.len(), 6);
        assert_eq!(f.competences().count(), 24);
        assert_eq!(f.themes.len(), 12);
        assert_eq!(f.profiles.len(), 4);
    }

    #[test]
    fn unknown_competence_in_theme_is_refused_with_its_name() {
        let bad = BUILTIN.replacen("competences = [\"5.1\", \"4.1\"]", "competences = [\"9.9\"]", 1);
        let err = Framework::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("9.9"), "{err}");
    }

    #[test]
    fn toml_errors_name_the_line() {
        let err = Framework::parse("version = \"x\"\n[[level]\n").unwrap_err().to_string();
        assert!(err.starts_with("dòng 2"), "{err}");
    }
}
