//! The 10/10 peak-day load harness (issue 25), on goose.
//!
//! Virtual users of four kinds, in the shares and with the think times of `mix.toml`:
//! - learners log in with a local account (the login form and its CSRF token, as a browser does),
//!   open the home page, their programme and a course, read lessons part by part (each step a
//!   progress POST), answer a lesson's check questions, and in some sessions start and sit an exam
//!   one answer per page, then open the result and their certificate;
//! - anonymous visitors verify certificates (`/verify/{id}` and the JSON API);
//! - staff open the province and commune dashboards, the commune's people list and, now and then,
//!   an export;
//! - commune digital-technology teams sync their queued visits (`POST /api/v1/visits`).
//!
//! `PEAK_MODE=static` runs one scenario instead: the same think times against a static copy of a
//! lesson page (the nginx baseline of `run.sh`).
//!
//! Settings come from the environment (see `run.sh`): `PEAK_MIX` (the mix file), `PEAK_THINK_SCALE`,
//! `PEAK_LEARNER_PREFIX` + `PEAK_LEARNERS` + `PEAK_LEARNER_PASSWORD`, `PEAK_STAFF_LOGIN`,
//! `PEAK_STAFF_PASSWORD`, `PEAK_OFFICER_LOGIN`, `PEAK_OFFICER_PASSWORD`, `PEAK_COMMUNE`,
//! `PEAK_TEAM_LOGIN`, `PEAK_TEAM_PASSWORD`, `PEAK_CERTIFICATES` (a file of certificate ids),
//! `PEAK_STATIC_PATH`, `PEAK_SUMMARY` (where the per-request summary is written). Goose's own
//! options (`--host`, `--users`, `--hatch-rate`, `--run-time`, …) are passed on the command line.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use goose::prelude::*;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Mix {
    weights: Weights,
    think: Think,
    learner: LearnerMix,
    staff: StaffMix,
    team: TeamMix,
}

#[derive(Debug, Deserialize)]
struct Weights {
    learner: usize,
    verifier: usize,
    staff: usize,
    team: usize,
}

/// Seconds, drawn uniformly between the two bounds.
#[derive(Debug, Deserialize)]
struct Think {
    page: [f64; 2],
    lesson_part: [f64; 2],
    check_questions: [f64; 2],
    question: [f64; 2],
    result: [f64; 2],
    verify: [f64; 2],
    staff_page: [f64; 2],
    team_sync: [f64; 2],
}

#[derive(Debug, Deserialize)]
struct LearnerMix {
    courses: Vec<String>,
    lessons: Vec<String>,
    lessons_per_session: [usize; 2],
    exam_share: f64,
    exam_first_share: f64,
    pdf_share: f64,
    relogin_share: f64,
    vneid_share: f64,
    max_parts: usize,
}

#[derive(Debug, Deserialize)]
struct StaffMix {
    province: String,
    export_share: f64,
    list_share: f64,
}

#[derive(Debug, Deserialize)]
struct TeamMix {
    visits_per_sync: [usize; 2],
    done: Vec<String>,
}

struct Settings {
    mix: Mix,
    think_scale: f64,
    learner_prefix: String,
    learners: usize,
    learner_password: String,
    staff: (String, String),
    officer: (String, String),
    commune: String,
    team: (String, String),
    /// Accounts per staff login prefix (`PEAK_STAFF_ACCOUNTS`): each staff and team user logs in
    /// as `<prefix><n>`, n in 1..=this; 0: the logins are used as they are.
    staff_accounts: usize,
    static_path: String,
    /// A VNeID test provider is running and the server is configured for it (`PEAK_VNEID=1`).
    vneid: bool,
}

/// The harness's settings are its environment (the project's rule of one configuration reader is
/// for the platform, not for this separate program).
#[allow(clippy::disallowed_methods)]
fn env_opt(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn env(name: &str, default: &str) -> String {
    env_opt(name).unwrap_or_else(|| default.to_owned())
}

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let path = env("PEAK_MIX", concat!(env!("CARGO_MANIFEST_DIR"), "/mix.toml"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mix: Mix = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        Settings {
            vneid: env("PEAK_VNEID", "0") == "1",
            mix,
            think_scale: env("PEAK_THINK_SCALE", "1").parse().expect("PEAK_THINK_SCALE is a number"),
            learner_prefix: env("PEAK_LEARNER_PREFIX", "peak.hv"),
            learners: env("PEAK_LEARNERS", "1").parse().expect("PEAK_LEARNERS is a number"),
            learner_password: env("PEAK_LEARNER_PASSWORD", ""),
            staff: (env("PEAK_STAFF_LOGIN", ""), env("PEAK_STAFF_PASSWORD", "")),
            officer: (env("PEAK_OFFICER_LOGIN", ""), env("PEAK_OFFICER_PASSWORD", "")),
            commune: env("PEAK_COMMUNE", ""),
            team: (env("PEAK_TEAM_LOGIN", ""), env("PEAK_TEAM_PASSWORD", "")),
            staff_accounts: env("PEAK_STAFF_ACCOUNTS", "0").parse().expect("PEAK_STAFF_ACCOUNTS is a number"),
            static_path: env("PEAK_STATIC_PATH", "/"),
        }
    })
}

/// Certificate ids known to exist (from `PEAK_CERTIFICATES`) and those learners earn during the run.
fn certificates() -> &'static Mutex<Vec<String>> {
    static IDS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    IDS.get_or_init(|| {
        let ids = env_opt("PEAK_CERTIFICATES")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().map(str::trim).filter(|l| l.len() == 36).map(str::to_owned).collect())
            .unwrap_or_default();
        Mutex::new(ids)
    })
}

/// When the measured run ends: `PEAK_RUN_SECONDS` after the last of `PEAK_USERS` users started
/// (goose's `--run-time` also counts from there). goose stops a user only between transactions,
/// and a learner's session is many minutes of reading, so without this the run would drain for
/// minutes after its end with a shrinking load. It used to be predicted by run.sh from the hatch
/// rate; goose started users more slowly than asked, the predicted end came first, and every user
/// then opened its first page (the home page, a dashboard) every two seconds: the "slow home page"
/// of the runs of 2026-12-07 was that loop (BENCHMARKS.md, peak day).
static STOP: OnceLock<f64> = OnceLock::new();
static ALL_STARTED: OnceLock<f64> = OnceLock::new();

fn stop_at() -> Option<f64> {
    STOP.get().copied()
}

/// When the last user started.
fn started_at() -> Option<f64> {
    ALL_STARTED.get().copied()
}

/// Counts a started user; the last one fixes the end of the run.
fn user_started() {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let started = STARTED.fetch_add(1, Ordering::Relaxed) + 1;
    let users: usize = env("PEAK_USERS", "0").parse().unwrap_or(0);
    if users > 0 && started == users {
        let seconds: f64 = env("PEAK_RUN_SECONDS", "0").parse().unwrap_or(0.0);
        let now = unix_now();
        let _ = ALL_STARTED.set(now);
        let _ = STOP.set(now + seconds);
    }
}

/// The run-ended error: goose counts it against the transaction, not against any request.
fn run_ended() -> Box<TransactionError> {
    Box::new(TransactionError::Url(reqwest::Url::parse("run-ended").expect_err("not an absolute address")))
}

/// At the top of every repeated transaction: past the end, no more requests; a short wait so that
/// a user goose has not stopped yet does not loop.
async fn still_running() -> TransactionResult {
    match stop_at() {
        Some(stop) if unix_now() >= stop => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Err(run_ended())
        }
        _ => Ok(()),
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// A user's pause. Past the run's end it ends the transaction instead (an error goose counts
/// against the transaction, not against any request), after a short wait so that a user whom goose
/// has not stopped yet does not send requests in a tight loop.
async fn think(range: [f64; 2]) -> TransactionResult {
    let scale = settings().think_scale;
    let seconds = if scale <= 0.0 { 0.0 } else { rand::rng().random_range(range[0]..=range[1].max(range[0])) * scale };
    if let Some(stop) = stop_at() {
        let left = stop - unix_now();
        if seconds > left {
            tokio::time::sleep(Duration::from_secs_f64(left.max(0.0) + 2.0)).await;
            return Err(run_ended());
        }
    }
    if seconds > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }
    Ok(())
}

fn between(range: [usize; 2]) -> usize {
    rand::rng().random_range(range[0]..=range[1].max(range[0]))
}

/// One request: its metric under `name`, the statuses of `expect` as success (a page a browser
/// lands on may answer 200 or send it on with 303). Returns the status, the `Location` header and
/// the body.
async fn call(
    user: &mut GooseUser,
    method: GooseMethod,
    path: &str,
    name: &str,
    expect: &[u16],
    body: Body<'_>,
) -> Result<(u16, Option<String>, String), Box<TransactionError>> {
    let mut builder = user.get_request_builder(&method, path)?;
    builder = match body {
        Body::None => builder,
        Body::Form(form) => builder.form(form),
        Body::Json(value, csrf) => builder.header("x-csrf-token", csrf).json(value),
    };
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .expect_status_code(expect[0])
        .set_request_builder(builder)
        .build();
    let sent = unix_now();
    let mut goose = user.request(request).await?;
    let expected = goose.response.as_ref().is_ok_and(|r| expect.contains(&r.status().as_u16()));
    steady_record(sent, name, goose.request.response_time, expected);
    match goose.response {
        Ok(response) => {
            let status = response.status().as_u16();
            let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let text = response.text().await.unwrap_or_default();
            if !expect.contains(&status) {
                failed_pause().await;
                let excerpt: String = text.chars().take(300).collect();
                return user
                    .set_failure(&format!("{name}: {status}: {excerpt}"), &mut goose.request, None, None)
                    .map(|()| (status, location, String::new()));
            }
            if status != expect[0] {
                user.set_success(&mut goose.request)?;
            }
            Ok((status, location, text))
        }
        Err(e) => {
            failed_pause().await;
            user.set_failure(&format!("{name}: {e}"), &mut goose.request, None, None)?;
            Ok((0, None, String::new()))
        }
    }
}

/// A failed request ends the transaction (goose's `set_failure` returns an error), and goose starts
/// the next at once: without a pause, a user whose every request fails (a session gone, a page
/// refused) would send requests in a tight loop, hundreds a second, and the run would measure that
/// loop. A person facing an error page reads it first.
async fn failed_pause() {
    let range = settings().mix.think.page;
    let seconds = rand::rng().random_range(range[0]..=range[1].max(range[0]));
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

enum Body<'a> {
    None,
    Form(&'a [(String, String)]),
    Json(&'a serde_json::Value, &'a str),
}

async fn get(user: &mut GooseUser, path: &str, name: &str) -> Result<String, Box<TransactionError>> {
    Ok(call(user, GooseMethod::Get, path, name, &[200], Body::None).await?.2)
}

/// POSTs a form that answers 303; the `Location`.
async fn post(
    user: &mut GooseUser,
    path: &str,
    name: &str,
    form: &[(String, String)],
) -> Result<Option<String>, Box<TransactionError>> {
    Ok(call(user, GooseMethod::Post, path, name, &[303], Body::Form(form)).await?.1)
}

/// The value of attribute `name` in one tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&").replace("&quot;", "\"").replace("&#x2F;", "/"))
}

/// The fields a browser would send for the form posting to `action` (from the first such form):
/// hidden inputs as they are, one value of each radio or checkbox group (a random one), the first
/// non-empty option of each select, "1" in text inputs.
fn form_fields(html: &str, action: &str) -> Option<Vec<(String, String)>> {
    let start = html.find(&format!("action=\"{action}\""))?;
    let end = html[start..].find("</form>").map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let mut fields = Vec::new();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let close = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..close];
        if tag.starts_with("<input") {
            let kind = attribute(tag, "type").unwrap_or_else(|| "text".into());
            if let Some(name) = attribute(tag, "name") {
                let value = attribute(tag, "value").unwrap_or_default();
                match kind.as_str() {
                    "hidden" => fields.push((name, value)),
                    "radio" | "checkbox" => groups.entry(name).or_default().push(value),
                    "submit" | "button" => {}
                    _ => fields.push((name, if value.is_empty() { "1".into() } else { value })),
                }
            }
        } else if tag.starts_with("<select")
            && let Some(name) = attribute(tag, "name")
        {
            let options = &rest[..rest.find("</select>").unwrap_or(rest.len())];
            let value = options
                .split("<option value=\"")
                .skip(1)
                .filter_map(|o| o.split('"').next())
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            fields.push((name, value.to_owned()));
        }
        rest = &rest[close.min(rest.len())..];
        if rest.len() <= 1 {
            break;
        }
        rest = &rest[1..];
    }
    let mut rng = rand::rng();
    for (name, values) in groups {
        if let Some(value) = values.choose(&mut rng) {
            fields.push((name, value.clone()));
        }
    }
    Some(fields)
}

/// The path part of a `Location` (the server sends paths, a proxy may send whole URLs).
fn path_of(location: &str) -> String {
    match location.find("://") {
        Some(scheme) => {
            let rest = &location[scheme + 3..];
            rest.find('/').map_or("/".into(), |slash| rest[slash..].to_owned())
        }
        None => location.to_owned(),
    }
    .split('#')
    .next()
    .unwrap_or("/")
    .to_owned()
}

/// The address a virtual user's requests come from, as the platform's trusted proxy reports it
/// (`X-Forwarded-For`; run.sh sets HOCVUSO_TRUSTED_PROXIES to the loopback): `PEAK_USERS_PER_ADDRESS`
/// users share one address of the carrier-grade NAT range 100.64.0.0/10, as phones on a mobile
/// network do. Only a header: nothing is ever sent to these addresses.
fn address_of(index: usize) -> String {
    let per: usize = env("PEAK_USERS_PER_ADDRESS", "1").parse().unwrap_or(1).max(1);
    let n = (index / per) as u32 & 0x003f_ffff;
    let ip = std::net::Ipv4Addr::from(0x6440_0000u32 | n);
    ip.to_string()
}

/// Each virtual user's own browser: a cookie jar, no automatic redirects (each step is measured
/// on its own), gzip as browsers ask for it.
async fn browser(user: &mut GooseUser) -> TransactionResult {
    user_started();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(&address_of(user.weighted_users_index)) {
        headers.insert("x-forwarded-for", value);
    }
    let builder = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        // Plain HTTP only: without this every user's client loads and decodes the system's root
        // certificates (OpenSSL, through goose's reqwest), tens of milliseconds of the load
        // generator's CPU per user, which at 10,000 users starved the hatching.
        .tls_built_in_root_certs(false)
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .timeout(Duration::from_secs(60))
        // A connection left idle through a long pause (a lesson part, a team's sync: minutes) is
        // dropped before nginx's 75 s keep-alive ends it: a request sent on a connection the other
        // side is closing fails, and a browser would silently retry it where goose counts an error.
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent("hocvuso-peak/0.1 (goose)");
    user.set_client_builder(builder).await?;
    Ok(())
}

/// The login form as a browser fills it: the pre-session cookie and its CSRF token, the password
/// (argon2id on the server), then the privacy notice the first time.
async fn log_in(user: &mut GooseUser, login: &str, password: &str) -> TransactionResult {
    let page = get(user, "/dang-nhap", "login: GET /dang-nhap").await?;
    let Some(mut form) = form_fields(&page, "/dang-nhap") else { return Ok(()) };
    form.retain(|(k, _)| k == "csrf" || k == "tiep");
    form.push(("login".into(), login.to_owned()));
    form.push(("password".into(), password.to_owned()));
    let location = post(user, "/dang-nhap", "login: POST /dang-nhap (argon2)", &form).await?;
    land(user, location).await
}

/// Where a login sends the browser: followed as a browser follows it, through the privacy notice
/// the first time (every page sends an account there until it has agreed).
async fn land(user: &mut GooseUser, location: Option<String>) -> TransactionResult {
    let Some(location) = location else { return Ok(()) };
    let path = path_of(&location);
    let next = if path.starts_with("/dong-y") {
        Some(path)
    } else {
        call(user, GooseMethod::Get, &path, "login: GET the page after login", &[200, 303], Body::None).await?.1
    };
    if next.as_deref().is_some_and(|l| path_of(l).starts_with("/dong-y")) {
        consent(user).await?;
    }
    Ok(())
}

/// The privacy notice, agreed to the first time an account logs in.
async fn consent(user: &mut GooseUser) -> TransactionResult {
    let page = get(user, "/dong-y", "login: GET /dong-y (first time)").await?;
    if let Some(mut form) = form_fields(&page, "/dong-y") {
        form.retain(|(k, _)| k == "csrf");
        form.push(("dong_y".into(), "co".into()));
        post(user, "/dong-y", "login: POST /dong-y (first time)", &form).await?;
    }
    Ok(())
}

/// A login through VNeID, against the test provider (`tests/oidc`, a real OpenID provider) as a
/// phone's browser goes through it: the platform's redirect, the provider's authorisation and its
/// form (a 12-digit citizen number, identity level 2), the way back, and the callback, where the
/// server redeems the code and checks the ID token. The provider's own steps are named
/// "vneid provider:" (they are not the platform's requests).
async fn log_in_vneid(user: &mut GooseUser) -> TransactionResult {
    let (_, Some(auth), _) =
        call(user, GooseMethod::Get, "/dang-nhap/vneid", "vneid: GET /dang-nhap/vneid", &[303], Body::None).await?
    else {
        return Ok(());
    };
    let provider = origin_of(&auth);
    let (_, Some(interaction), _) =
        call(user, GooseMethod::Get, &auth, "vneid provider: GET /auth", &[303], Body::None).await?
    else {
        return Ok(());
    };
    if !path_of(&interaction).starts_with("/interaction/") {
        // The provider still holds this phone's session from an earlier login (the platform's logout
        // ends its own session only) and sends it straight back with a code, as VNeID would.
        return vneid_callback(user, &interaction).await;
    }
    let interaction = format!("{provider}{}", path_of(&interaction));
    call(user, GooseMethod::Get, &interaction, "vneid provider: GET /interaction/{uid}", &[200], Body::None).await?;
    // A citizen number of the shape the platform accepts: Phú Thọ's prefix 025, the century-and-sex
    // digit of a woman born in the 1900s, then the year and a serial. One per virtual learner: the
    // platform asks VNeID to authenticate again at every login (`prompt=login`), and a phone that
    // logs in again is the same person's, not another one's (which would make the provider end the
    // first person's session there first).
    let cccd = format!("0251{:08}", user.weighted_users_index % 100_000_000);
    let form = [("cccd".into(), cccd), ("name".into(), "Người Học Thử".into()), ("level".into(), "2".into())];
    let (_, Some(back), _) = call(
        user,
        GooseMethod::Post,
        &interaction,
        "vneid provider: POST /interaction/{uid}",
        &[303],
        Body::Form(&form),
    )
    .await?
    else {
        return Ok(());
    };
    let back = format!("{provider}{}", path_of(&back));
    let (_, Some(callback), _) =
        call(user, GooseMethod::Get, &back, "vneid provider: GET /auth/{uid}", &[303], Body::None).await?
    else {
        return Ok(());
    };
    vneid_callback(user, &callback).await
}

/// The platform's VNeID callback, where it redeems the code and checks the ID token.
async fn vneid_callback(user: &mut GooseUser, callback: &str) -> TransactionResult {
    let (_, next, _) = call(
        user,
        GooseMethod::Get,
        &path_of(callback),
        "vneid: GET /dang-nhap/vneid/callback (code, ID token)",
        &[303],
        Body::None,
    )
    .await?;
    land(user, next).await
}

/// `http://host:port` of an absolute address.
fn origin_of(url: &str) -> String {
    let path = path_of(url);
    url.strip_suffix(path.as_str()).unwrap_or(url).split('?').next().unwrap_or_default().to_owned()
}

/// A learner's login: through VNeID for `vneid_share` of them when the provider runs, else the
/// local account's password.
async fn log_in_learner(user: &mut GooseUser) -> TransactionResult {
    let s = settings();
    if s.vneid && rand::rng().random_bool(s.mix.learner.vneid_share.clamp(0.0, 1.0)) {
        log_in_vneid(user).await
    } else {
        log_in(user, &next_learner(), &s.learner_password).await
    }
}

/// Which account a learner uses: a fresh one at every login (distinct while there are accounts
/// enough); a learner who logs in again is another person on the same phone.
struct Learner {
    exams: usize,
}

/// The citizens' exam allows 3 attempts a day (migrations/*/0005_assessment.sql).
const ATTEMPTS_PER_DAY: usize = 3;

fn next_learner() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let s = settings();
    format!("{}{}", s.learner_prefix, NEXT.fetch_add(1, Ordering::Relaxed) % s.learners.max(1))
}

async fn learner_start(user: &mut GooseUser) -> TransactionResult {
    browser(user).await?;
    user.set_session_data(Learner { exams: 0 });
    log_in_learner(user).await
}

/// One learning session: home, programme, a course, some lessons part by part, maybe an exam; or
/// home and straight to the exam (`exam_first_share`).
async fn learner_session(user: &mut GooseUser) -> TransactionResult {
    still_running().await?;
    let s = settings();
    let mix = &s.mix;
    get(user, "/", "home: GET /").await?;
    think(mix.think.page).await?;
    let exams = user.get_session_data::<Learner>().map_or(0, |l| l.exams);
    let straight = exams < ATTEMPTS_PER_DAY && rand::rng().random_bool(mix.learner.exam_first_share.clamp(0.0, 1.0));
    if !straight {
        get(user, "/hoc", "programme: GET /hoc").await?;
        think(mix.think.page).await?;
        let course = mix.learner.courses.choose(&mut rand::rng()).cloned().unwrap_or_default();
        get(user, &format!("/khoa-hoc/{course}"), "course: GET /khoa-hoc/{code}").await?;
        think(mix.think.page).await?;
        for _ in 0..between(mix.learner.lessons_per_session) {
            let slug = mix.learner.lessons.choose(&mut rand::rng()).cloned().unwrap_or_default();
            read_lesson(user, &slug).await?;
        }
    }
    if exams < ATTEMPTS_PER_DAY && (straight || rand::rng().random_bool(mix.learner.exam_share.clamp(0.0, 1.0))) {
        if let Some(l) = user.get_session_data_mut::<Learner>() {
            l.exams += 1;
        }
        sit_exam(user).await?;
    }
    if rand::rng().random_bool(mix.learner.relogin_share.clamp(0.0, 1.0)) {
        let page = get(user, "/tai-khoan", "account: GET /tai-khoan").await?;
        if let Some(mut form) = form_fields(&page, "/dang-xuat") {
            form.retain(|(k, _)| k == "csrf");
            post(user, "/dang-xuat", "logout: POST /dang-xuat", &form).await?;
        }
        user.set_session_data(Learner { exams: 0 });
        log_in_learner(user).await?;
    }
    Ok(())
}

/// Opens a lesson where the learner left off and moves through it part by part (each move a
/// progress POST and the next part's page), then answers its check questions.
async fn read_lesson(user: &mut GooseUser, slug: &str) -> TransactionResult {
    let mix = &settings().mix;
    let mut page = get(user, &format!("/bai-hoc/{slug}"), "lesson: GET /bai-hoc/{slug}").await?;
    let progress = format!("/bai-hoc/{slug}/tien-do");
    let answers = format!("/bai-hoc/{slug}/tra-loi");
    for _ in 0..mix.learner.max_parts {
        if let Some(form) = form_fields(&page, &progress) {
            think(mix.think.lesson_part).await?;
            let Some(next) = post(user, &progress, "progress: POST /bai-hoc/{slug}/tien-do", &form).await? else {
                return Ok(());
            };
            page = get(user, &path_of(&next), "lesson: GET /bai-hoc/{slug}?phan=N").await?;
        } else if let Some(form) = form_fields(&page, &answers) {
            think(mix.think.check_questions).await?;
            call(
                user,
                GooseMethod::Post,
                &answers,
                "lesson checks: POST /bai-hoc/{slug}/tra-loi",
                &[200],
                Body::Form(&form),
            )
            .await?;
            return Ok(());
        } else {
            return Ok(());
        }
    }
    Ok(())
}

/// Starts an exam, answers each question on its own page, submits, opens the result and, when it
/// carries one, the certificate (and sometimes its PDF).
async fn sit_exam(user: &mut GooseUser) -> TransactionResult {
    let mix = &settings().mix;
    let home = get(user, "/kiem-tra", "exam: GET /kiem-tra").await?;
    let Some(start) = home.split("action=\"/kiem-tra/").nth(1).and_then(|r| r.split('"').next()) else {
        return Ok(());
    };
    let start = format!("/kiem-tra/{start}");
    let Some(mut form) = form_fields(&home, &start) else { return Ok(()) };
    form.retain(|(k, _)| k == "csrf");
    think(mix.think.page).await?;
    let Some(sitting) = post(user, &start, "exam: POST /kiem-tra/{group}/bat-dau", &form).await? else {
        return Ok(());
    };
    let sitting = path_of(&sitting);
    let mut page = get(user, &sitting, "exam: GET /kiem-tra/bai/{id} (question)").await?;
    let count: usize = page
        .split("Câu 1 trên ")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    for n in 1..=count {
        if n > 1 {
            page = get(user, &format!("{sitting}?cau={n}"), "exam: GET /kiem-tra/bai/{id} (question)").await?;
        }
        let action = format!("{sitting}/cau/{n}");
        let Some(mut form) = form_fields(&page, &action) else { break };
        form.push(("di".into(), "sau".into()));
        think(mix.think.question).await?;
        post(user, &action, "exam: POST /kiem-tra/bai/{id}/cau/{n} (answer)", &form).await?;
    }
    let review_path = format!("{sitting}/nop");
    let review = get(user, &review_path, "exam: GET /kiem-tra/bai/{id}/nop").await?;
    let Some(mut form) = form_fields(&review, &review_path) else { return Ok(()) };
    form.retain(|(k, _)| k == "csrf");
    think(mix.think.page).await?;
    let Some(result) = post(user, &review_path, "exam: POST /kiem-tra/bai/{id}/nop (grade, sign)", &form).await? else {
        return Ok(());
    };
    let result = get(user, &path_of(&result), "exam: GET /kiem-tra/ket-qua/{id}").await?;
    if let Some(id) = result.split("href=\"/verify/").nth(1).and_then(|r| r.get(..36)) {
        let id = id.to_owned();
        think(mix.think.result).await?;
        get(user, &format!("/verify/{id}"), "certificate: GET /verify/{id} (own)").await?;
        if rand::rng().random_bool(mix.learner.pdf_share.clamp(0.0, 1.0)) {
            get(user, &format!("/chung-nhan/{id}/pdf"), "certificate: GET /chung-nhan/{id}/pdf").await?;
        }
        certificates().lock().unwrap().push(id);
    }
    Ok(())
}

/// Someone checking a certificate they were shown: the page, or the JSON API for an agency's system.
async fn verifier_start(user: &mut GooseUser) -> TransactionResult {
    browser(user).await
}

async fn verifier(user: &mut GooseUser) -> TransactionResult {
    still_running().await?;
    let mix = &settings().mix;
    let id = certificates().lock().unwrap().choose(&mut rand::rng()).cloned();
    if let Some(id) = id {
        if rand::rng().random_bool(0.7) {
            get(user, &format!("/verify/{id}"), "verify: GET /verify/{id} (anonymous)").await?;
        } else {
            get(user, &format!("/api/v1/certificates/{id}"), "verify: GET /api/v1/certificates/{id}").await?;
        }
    }
    think(mix.think.verify).await?;
    Ok(())
}

/// The account of the `n`th user of a kind: `<prefix><n>` when there are several (`PEAK_STAFF_ACCOUNTS`).
fn account_of(prefix: &str, n: usize) -> String {
    match settings().staff_accounts {
        0 => prefix.to_owned(),
        accounts => format!("{prefix}{}", 1 + n % accounts),
    }
}

async fn staff_start(user: &mut GooseUser) -> TransactionResult {
    browser(user).await?;
    let s = settings();
    // Half the staff are the province's administrators, half the commune's officers.
    let n = user.weighted_users_index;
    let (login, password) = if n.is_multiple_of(2) { &s.staff } else { &s.officer };
    log_in(user, &account_of(login, n / 2), password).await
}

/// A staff member's round: the dashboard of their unit, the level below, the commune's lists.
async fn staff_round(user: &mut GooseUser) -> TransactionResult {
    still_running().await?;
    let s = settings();
    let mix = &s.mix;
    let province = user.weighted_users_index.is_multiple_of(2);
    let unit = if province { s.mix.staff.province.clone() } else { s.commune.clone() };
    get(user, &format!("/quan-ly/chi-tieu/{unit}"), "staff: GET /quan-ly/chi-tieu/{unit}").await?;
    think(mix.think.staff_page).await?;
    if province {
        get(user, &format!("/quan-ly/chi-tieu/{unit}/cap-duoi"), "staff: GET /quan-ly/chi-tieu/{unit}/cap-duoi")
            .await?;
        think(mix.think.staff_page).await?;
    } else {
        if rand::rng().random_bool(mix.staff.list_share.clamp(0.0, 1.0)) {
            get(user, &format!("/quan-ly/don-vi/{unit}/nguoi"), "staff: GET /quan-ly/don-vi/{unit}/nguoi").await?;
            think(mix.think.staff_page).await?;
        }
        if rand::rng().random_bool(mix.staff.export_share.clamp(0.0, 1.0)) {
            get(
                user,
                &format!("/quan-ly/don-vi/{unit}/can-ho-tro.csv"),
                "staff: GET /quan-ly/don-vi/{unit}/can-ho-tro.csv (export)",
            )
            .await?;
            think(mix.think.staff_page).await?;
        }
    }
    Ok(())
}

/// A team's phone: its households, the page's CSRF token, then queued visits synced in bursts.
struct Team {
    csrf: String,
    team: i64,
    /// (household code, its members' person ids)
    households: Vec<(String, Vec<i64>)>,
}

async fn team_start(user: &mut GooseUser) -> TransactionResult {
    browser(user).await?;
    let s = settings();
    log_in(user, &account_of(&s.team.0, user.weighted_users_index), &s.team.1).await?;
    let page = get(user, "/tham-nha/", "team: GET /tham-nha/").await?;
    let csrf = form_fields(&page, "/tham-nha/")
        .and_then(|f| f.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v))
        .unwrap_or_default();
    let list = get(user, "/api/v1/visits/households", "team: GET /api/v1/visits/households").await?;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap_or_default();
    let team = list["team"].as_i64().unwrap_or(0);
    let households = list["households"]
        .as_array()
        .map(|hs| {
            hs.iter()
                .filter_map(|h| {
                    let code = h["code"].as_str()?.to_owned();
                    let members: Vec<i64> = h["members"].as_array()?.iter().filter_map(|m| m["id"].as_i64()).collect();
                    (!members.is_empty()).then_some((code, members))
                })
                .collect()
        })
        .unwrap_or_default();
    user.set_session_data(Team { csrf, team, households });
    Ok(())
}

fn uuid_v4() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let variant = ["8", "9", "a", "b"][usize::from(bytes[8] >> 6)];
    format!("{}-{}-4{}-{}{}-{}", &h[..8], &h[8..12], &h[13..16], variant, &h[17..20], &h[20..32])
}

async fn team_sync(user: &mut GooseUser) -> TransactionResult {
    still_running().await?;
    let mix = &settings().mix;
    think(mix.think.team_sync).await?;
    let visits: Vec<serde_json::Value> = {
        let Some(t) = user.get_session_data::<Team>() else { return Ok(()) };
        if t.households.is_empty() {
            return Ok(());
        }
        let mut rng = rand::rng();
        (0..between(mix.team.visits_per_sync))
            .filter_map(|_| {
                let (code, members) = t.households.choose(&mut rng)?;
                let person = *members.choose(&mut rng)?;
                let done = mix.team.done.choose(&mut rng).cloned().unwrap_or_default();
                Some(serde_json::json!({
                    "id": uuid_v4(), "team": t.team, "household": code, "visited_on": "2026-10-10",
                    "present": [{"person": person, "vneid_level2": rng.random_bool(0.5), "bank_account": rng.random_bool(0.5)}],
                    "done": [done], "still_needed": "", "next_visit_on": ""
                }))
            })
            .collect()
    };
    let csrf = user.get_session_data::<Team>().map(|t| t.csrf.clone()).unwrap_or_default();
    for visit in &visits {
        call(user, GooseMethod::Post, "/api/v1/visits", "team: POST /api/v1/visits", &[201], Body::Json(visit, &csrf))
            .await?;
    }
    Ok(())
}

/// The baseline: the same reading think time, against the static copy of a lesson page.
async fn static_page(user: &mut GooseUser) -> TransactionResult {
    still_running().await?;
    let s = settings();
    think(s.mix.think.lesson_part).await?;
    get(user, &s.static_path, "baseline: GET static lesson copy (nginx)").await?;
    Ok(())
}

/// Response times (ms) and failures by request name, of the requests sent while every user was
/// running: after the last one started and before the run's end. goose's own figures (the first
/// table) include the ramp-up, when thousands of logins (argon2) arrive within minutes.
type Steady = BTreeMap<String, (Vec<u64>, usize)>;

fn steady() -> &'static Mutex<Steady> {
    static STEADY: OnceLock<Mutex<Steady>> = OnceLock::new();
    STEADY.get_or_init(Mutex::default)
}

fn steady_record(sent: f64, name: &str, ms: u64, success: bool) {
    let (Some(stop), Some(started)) = (stop_at(), started_at()) else { return };
    if sent >= started && sent < stop {
        let mut map = steady().lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(name.to_owned()).or_default();
        entry.0.push(ms);
        entry.1 += usize::from(!success);
    }
}

/// The second table: the steady state, from [`steady_record`].
fn steady_summary() -> String {
    let map = steady().lock().unwrap_or_else(|e| e.into_inner());
    let seconds = match (stop_at(), started_at()) {
        (Some(stop), Some(started)) => (stop.min(unix_now()) - started).max(1.0),
        _ => return "steady state: not reached (not every user started)\n".into(),
    };
    let mut out = format!(
        "\nsteady state ({seconds:.0} s with every user running):\n{:<66} {:>9} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7}\n",
        "request", "count", "req/s", "fails", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let (mut all, mut fails) = (0, 0);
    for (name, (times, failed)) in map.iter() {
        let mut times = times.clone();
        times.sort_unstable();
        let at = |p: f64| times[(((times.len() as f64) * p).ceil() as usize).clamp(1, times.len()) - 1];
        all += times.len();
        fails += failed;
        out += &format!(
            "{:<66} {:>9} {:>8.1} {:>7} {:>7} {:>7} {:>7} {:>7}\n",
            name.chars().take(66).collect::<String>(),
            times.len(),
            times.len() as f64 / seconds,
            failed,
            at(0.50),
            at(0.95),
            at(0.99),
            times.last().copied().unwrap_or(0)
        );
    }
    out += &format!("steady state, all requests: {all} = {:.1} req/s; failed: {fails}\n", all as f64 / seconds);
    out
}

/// Per request name: count, throughput, failures and p50/p95/p99/max from goose's histograms.
fn summary(metrics: &GooseMetrics) -> String {
    fn percentile(times: &BTreeMap<usize, usize>, total: usize, p: f64) -> usize {
        let want = ((total as f64) * p).ceil().max(1.0) as usize;
        let mut seen = 0;
        for (ms, n) in times {
            seen += n;
            if seen >= want {
                return *ms;
            }
        }
        times.keys().next_back().copied().unwrap_or(0)
    }
    let seconds = metrics.duration.max(1) as f64;
    let mut out = format!(
        "{:<66} {:>9} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7}\n",
        "request", "count", "req/s", "fails", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let mut names: Vec<&String> = metrics.requests.keys().collect();
    names.sort();
    let (mut all, mut fails) = (0, 0);
    for key in names {
        let r = &metrics.requests[key];
        let total = r.success_count + r.fail_count;
        all += total;
        fails += r.fail_count;
        let t = &r.raw_data.times;
        out += &format!(
            "{:<66} {:>9} {:>8.1} {:>7} {:>7} {:>7} {:>7} {:>7}\n",
            key.chars().take(66).collect::<String>(),
            total,
            total as f64 / seconds,
            r.fail_count,
            percentile(t, total, 0.50),
            percentile(t, total, 0.95),
            percentile(t, total, 0.99),
            r.raw_data.maximum_time
        );
    }
    out += &format!(
        "all requests: {all} in {seconds:.0} s = {:.1} req/s; failed: {fails}; users at most: {}\n",
        all as f64 / seconds,
        metrics.maximum_users
    );
    for error in metrics.errors.values().take(10) {
        out += &format!("error ×{}: {}\n", error.occurrences, error.error.chars().take(200).collect::<String>());
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let s = settings();
    let w = &s.mix.weights;
    let attack = GooseAttack::initialize()?;
    let attack = if env("PEAK_MODE", "site") == "static" {
        attack.register_scenario(
            scenario!("static")
                .register_transaction(transaction!(browser).set_on_start())
                .register_transaction(transaction!(static_page)),
        )
    } else {
        attack
            .register_scenario(
                scenario!("learner")
                    .set_weight(w.learner)?
                    .register_transaction(transaction!(learner_start).set_on_start())
                    .register_transaction(transaction!(learner_session)),
            )
            .register_scenario(
                scenario!("verifier")
                    .set_weight(w.verifier)?
                    .register_transaction(transaction!(verifier_start).set_on_start())
                    .register_transaction(transaction!(verifier)),
            )
            .register_scenario(
                scenario!("staff")
                    .set_weight(w.staff)?
                    .register_transaction(transaction!(staff_start).set_on_start())
                    .register_transaction(transaction!(staff_round)),
            )
            .register_scenario(
                scenario!("team")
                    .set_weight(w.team)?
                    .register_transaction(transaction!(team_start).set_on_start())
                    .register_transaction(transaction!(team_sync)),
            )
    };
    let metrics = attack.execute().await?;
    let text = summary(&metrics) + &steady_summary();
    match env_opt("PEAK_SUMMARY") {
        Some(path) => std::fs::write(&path, &text).map_err(|e| GooseError::InvalidOption {
            option: "PEAK_SUMMARY".into(),
            value: path,
            detail: e.to_string(),
        })?,
        None => print!("{text}"),
    }
    Ok(())
}
