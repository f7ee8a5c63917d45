//! `hocvuso user add`: local accounts from the command line, and the demo's one account per role.

use anyhow::{Context, bail};

use crate::config::Config;
use crate::domain::role::{Grant, Role};
use crate::domain::unit::PROVINCE_CODE;
use crate::identity::accounts::{self, NewAccount};
use crate::identity::audit::Actor;
use crate::identity::password::NewPassword;
use crate::on_pool;
use crate::store::Store;

pub struct AddUser {
    pub login: String,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub unit: String,
    pub organisation: Option<String>,
    /// `None`: a random password is made, printed once, and must be changed at first login.
    pub password: Option<String>,
}

/// A login: 3 to 40 lower-case letters, digits, dots, dashes or underscores.
pub fn parse_login(raw: &str) -> anyhow::Result<String> {
    let login = raw.trim().to_lowercase();
    let ok = (3..=40).contains(&login.len())
        && login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if !ok {
        bail!(
            "tên đăng nhập \"{raw}\" phải gồm 3–40 chữ thường không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới \
             / the login must be 3–40 lower-case letters, digits, '.', '-' or '_'"
        );
    }
    Ok(login)
}

pub async fn add(config: &Config, user: AddUser) -> anyhow::Result<()> {
    let store = super::open_store(config).await?;
    let password = create(&store, user).await?;
    if let Some(password) = password {
        println!("mật khẩu tạm (đổi khi đăng nhập lần đầu) / temporary password (changed at first login): {password}");
    }
    store.close().await;
    Ok(())
}

/// Creates the account; returns the generated password when none was given.
pub async fn create(store: &Store, user: AddUser) -> anyhow::Result<Option<String>> {
    let login = parse_login(&user.login)?;
    if accounts::by_login(store, &login).await?.is_some() {
        bail!("tên đăng nhập \"{login}\" đã có / the login \"{login}\" is taken");
    }
    let unit = user.unit.trim().to_owned();
    if crate::store::units::get(store, &unit).await?.is_none() {
        bail!("không có đơn vị mã \"{unit}\" / no unit with code \"{unit}\"");
    }
    if let Some(org) = &user.organisation {
        let found: Option<String> = on_pool!(store, pool => sqlx::query_scalar("SELECT code FROM organisation WHERE code = $1")
            .bind(org).fetch_optional(pool).await)?;
        found.with_context(|| format!("không có tổ chức mã \"{org}\" / no organisation with code \"{org}\""))?;
    }
    let mut grants = Vec::new();
    for code in &user.roles {
        let role = Role::parse(code).with_context(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
            format!("vai trò \"{code}\" không có; dùng / unknown role; use: {}", all.join(", "))
        })?;
        if role == Role::QuanTriTinh && unit != PROVINCE_CODE {
            bail!("quan_tri_tinh là vai trò cấp tỉnh: dùng --unit 25 / quan_tri_tinh needs --unit 25");
        }
        let organisation = (role == Role::CanBoNganh).then(|| user.organisation.clone()).flatten();
        grants.push(Grant { role, unit_code: unit.clone(), organisation_code: organisation });
    }
    if grants.is_empty() {
        bail!("cần ít nhất một --role / give at least one --role");
    }
    let (password, checked, generated) = match user.password {
        Some(p) => {
            let checked = NewPassword::parse(&p, Some(&login)).map_err(|e| anyhow::anyhow!(e))?;
            (p, checked, false)
        }
        None => {
            let (raw, checked) = NewPassword::generate(Some(&login));
            (raw, checked, true)
        }
    };
    let hash = checked.hash().await?;
    accounts::create_by(
        store,
        NewAccount {
            login: Some(login),
            password_hash: Some(hash),
            must_change_password: generated,
            display_name: user.name.map(|n| crate::domain::text::clean(&n)),
            grants,
            ..Default::default()
        },
        Actor::CLI,
    )
    .await?;
    Ok(generated.then_some(password))
}

/// The commune the demo's staff accounts work in: the one with the most people, so lists are full.
async fn demo_commune(store: &Store) -> anyhow::Result<(String, Option<String>, Option<i64>)> {
    let commune: String = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT code FROM unit WHERE level = 'xa' ORDER BY people_count DESC, code LIMIT 1",
    ).fetch_one(pool).await)?;
    let organisation: Option<String> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT code FROM organisation WHERE commune_code = $1 AND kind = 'co_quan' ORDER BY code LIMIT 1",
    ).bind(&commune).fetch_optional(pool).await)?;
    let learner: Option<i64> = on_pool!(store, pool => sqlx::query_scalar(
        "SELECT min(id) FROM person WHERE village_code IN (SELECT code FROM unit WHERE parent_code = $1)",
    ).bind(&commune).fetch_one(pool).await)?;
    Ok((commune, organisation, learner))
}

/// One account per role, all in one real commune (the province administrator over the province);
/// returns the commune and (role, login, password) to print.
pub async fn demo_accounts(store: &Store) -> anyhow::Result<(String, Vec<(Role, String, String)>)> {
    let (commune, organisation, learner) = demo_commune(store).await?;
    let mut made = Vec::new();
    for role in Role::ALL {
        let login = format!("demo.{}", role.code().replace('_', "-"));
        let (password, checked) = NewPassword::generate(Some(&login));
        let hash = checked.hash().await?;
        let unit = if role == Role::QuanTriTinh { PROVINCE_CODE.to_owned() } else { commune.clone() };
        let organisation_code = (role == Role::CanBoNganh).then(|| organisation.clone()).flatten();
        // The demo learner is a real person of the registry, so "my data" has something to show.
        let person_id = (role == Role::HocVien).then_some(learner).flatten();
        accounts::create(
            store,
            NewAccount {
                login: Some(login.clone()),
                password_hash: Some(hash),
                person_id,
                display_name: Some(format!("Tài khoản thử — {}", role.label())),
                grants: vec![Grant { role, unit_code: unit, organisation_code }],
                ..Default::default()
            },
        )
        .await?;
        made.push((role, login, password));
    }
    Ok((commune, made))
}
