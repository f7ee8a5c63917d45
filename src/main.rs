//! The `hocvuso` command line. This file only parses arguments; the work is in `hocvuso::commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hocvuso::commands::{self, demo::DemoOptions};
use hocvuso::config::Config;
use hocvuso::registry::import::Options;

/// Nền tảng Bình dân học vụ số — the platform of the "digital literacy for everyone" movement.
///
/// Settings come from the environment: DATABASE_URL (default sqlite://data/hocvuso.db; postgres://... for
/// PostgreSQL), HOCVUSO_LISTEN, HOCVUSO_PUBLIC_URL, HOCVUSO_DATA_KEY (64 hex characters; or
/// HOCVUSO_DATA_KEY_FILE, default data/hocvuso.key), HOCVUSO_MEDIA_URL.
#[derive(Parser)]
#[command(name = "hocvuso", version, propagate_version = true)]
struct Cli {
    /// Database to use, instead of DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Write logs as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web site and API (applies migrations first). Needs a data key.
    Serve {
        /// Address to listen on, instead of HOCVUSO_LISTEN (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create or update the database schema and load the built-in administrative tree.
    Migrate,
    /// Try the platform: a new database with the 148 communes of Phú Thọ and a synthetic population, then serve it.
    Demo {
        /// How many people to generate (4000000 is the whole province).
        #[arg(long, default_value_t = 20_000)]
        people: u64,
        /// Seed of the generator: the same seed gives the same people.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Wipe a database that already holds people.
        #[arg(long)]
        reset: bool,
        /// Prepare the database and exit, without serving.
        #[arg(long)]
        no_serve: bool,
        /// Curriculum folder to import (skipped if missing).
        #[arg(long, value_name = "DIR", default_value = "content")]
        content: PathBuf,
        /// Address to listen on, instead of HOCVUSO_LISTEN.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Write a synthetic roster (CSV in the import format) for tests, trials and benchmarks.
    Generate {
        #[command(subcommand)]
        what: GenerateWhat,
    },
    /// Import a roster from CSV or XLSX. The file is checked whole: with any bad row nothing is written
    /// (exit 1) unless --skip-invalid is given (then the good rows are written, exit 3).
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Copy the database to a file (SQLite: consistent copy while the server runs; PostgreSQL: pg_dump).
    Backup {
        /// File to write; it must not exist.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Manage local accounts (staff, and pilots without VNeID).
    User {
        #[command(subcommand)]
        what: UserWhat,
    },
    /// Learning content: load programs, courses, lessons and media from a folder (see content/README.md).
    Content {
        #[command(subcommand)]
        what: ContentWhat,
    },
    /// The competence framework: import a new version (results keep the version they were graded with).
    Framework {
        #[command(subcommand)]
        what: FrameworkWhat,
    },
    /// The learning record store (xAPI): register outside content that reports statements.
    Xapi {
        #[command(subcommand)]
        what: XapiWhat,
    },
    /// Certificates: rotate the signing key, revoke a certificate.
    Certificates {
        #[command(subcommand)]
        what: CertificatesWhat,
    },
    /// Movement tracking: recompute every indicator counter from the person rows; quarterly snapshots.
    Tracking {
        #[command(subcommand)]
        what: TrackingWhat,
    },
    /// The assessment: calibrate the adaptive placement test's item parameters from stored answers.
    Assessment {
        #[command(subcommand)]
        what: AssessmentWhat,
    },
    /// The learning assistant: measure it on questions with their expected themes; load the built-in FAQ.
    Assistant {
        #[command(subcommand)]
        what: AssistantWhat,
    },
    /// Quarterly reports (plan section VI): the report of the province, a commune or an agency.
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// Restore the database from a backup file made by `backup`.
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Overwrite a database that already exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum UserWhat {
    /// Create an account with one or more roles over a unit. Without --password, a temporary password is
    /// printed and must be changed at the first login.
    Add {
        /// Login name: 3–40 lower-case letters, digits, '.', '-' or '_'.
        #[arg(long)]
        login: String,
        /// Name shown in the interface.
        #[arg(long)]
        name: Option<String>,
        /// Role code, repeatable: hoc_vien, dai_su_so, to_cong_nghe_so, ho_tro_mot_cua, can_bo_xa, can_bo_nganh,
        /// quan_tri_tinh, bien_tap, kiem_toan.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Unit the roles cover: 25 (the province), a commune code, or a village code.
        #[arg(long)]
        unit: String,
        /// For can_bo_nganh: the agency's organisation code.
        #[arg(long)]
        organisation: Option<String>,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ContentWhat {
    /// Check every file, then load them all in one transaction (exit 1 and nothing written when any is
    /// bad; each problem is named by file and line). Synthesises each lesson's audio with espeak-ng.
    Import {
        /// The content folder (one sub-folder per program, e.g. content/).
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum AssessmentWhat {
    /// Fit 2PL parameters (discrimination, location) from the answers of exams and placements;
    /// items with fewer than 30 answers keep the default from their difficulty. Prints the fit.
    Calibrate,
}

#[derive(Subcommand)]
enum AssistantWhat {
    /// Ask every question of a JSON-lines file ({"question": ..., "themes": [...]}) and print top-1,
    /// top-3 and the latency (p50, p95).
    Eval {
        file: PathBuf,
        /// Print each question with the passages it got.
        #[arg(long)]
        verbose: bool,
    },
    /// Load FAQ entries (the built-in data-builtin/assistant-faq.toml when no file is given);
    /// entries already loaded stay as the editors left them.
    FaqImport { file: Option<PathBuf> },
}

#[derive(Subcommand)]
enum TrackingWhat {
    /// Recompute every counter (village, commune, province; every indicator and year) from the
    /// person and household rows, in one transaction.
    Rebuild,
    /// Take a quarter's snapshot of the counters for the trends (the first take of a quarter
    /// stands; the server takes the last ended quarter's by itself).
    Snapshot {
        /// The quarter, as 2025Q4 (default: the last ended quarter).
        #[arg(long)]
        quarter: Option<String>,
    },
}

#[derive(Subcommand)]
enum ReportWhat {
    /// Write a quarter's report: indicators against targets and the change since the quarter
    /// before, the community models, the task matrix, the lagging units. An approved report is
    /// written as stored at its approval.
    Quarterly {
        /// The quarter, as 2025Q4.
        #[arg(long)]
        quarter: String,
        /// 25 (the province, default), a commune's code, or an agency's code (e.g. so_gddt).
        #[arg(long)]
        unit: Option<String>,
        /// pdf, xlsx or csv.
        #[arg(long)]
        format: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum FrameworkWhat {
    /// Import a framework file (TOML, same shape as data-builtin/framework.toml) with a new `version`.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum CertificatesWhat {
    /// Make a new Ed25519 signing key and retire the others: new certificates are signed with it, and
    /// the old keys stay published so what they signed keeps verifying.
    RotateKey,
    /// Revoke a certificate; its public check shows the reason and the time.
    Revoke {
        /// The certificate id (as in its verify address).
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum XapiWhat {
    /// Create credentials (HTTP basic) for outside content; the secret is printed once.
    Client {
        /// What the content is, e.g. "Khóa học VNeID của Bộ Công an".
        #[arg(long)]
        name: String,
        /// Let it read every learner's statements, not only those it wrote (an outside reporting
        /// tool; the platform's own reports do not need it).
        #[arg(long)]
        read_all: bool,
    },
}

#[derive(Subcommand)]
enum GenerateWhat {
    /// People: cccd,ho_ten,ngay_sinh,gioi_tinh,ma_xa,thon,ma_ho,dan_toc,doi_tuong,dien_thoai,cap_hoc,ma_to_chuc.
    People {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Output file, or - for standard output.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Villages and residential groups: ma_xa,ma_thon,ten_thon,loai.
    Units {
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Organisations: ma_to_chuc,ten,loai,ma_xa.
    Organisations {
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct ImportArgs {
    /// CSV (UTF-8, comma or semicolon) or XLSX (first sheet) file.
    file: PathBuf,
    /// Write the good rows and report the bad ones (exit 3 when any was skipped).
    #[arg(long)]
    skip_invalid: bool,
    /// Also write the report of bad rows to this CSV (dong,cot,gia_tri,ly_do,reason).
    #[arg(long, value_name = "FILE.csv")]
    report: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// People: required cccd,ho_ten,ngay_sinh,gioi_tinh,ma_xa,thon,ma_ho; optional
    /// dan_toc,doi_tuong,dien_thoai,cap_hoc,ma_to_chuc. Same citizen number = same person (updated).
    People(ImportArgs),
    /// Villages: ma_xa,ten_thon,loai (thon, ban, xom, to_dan_pho), optional ma_thon (e.g. 07900-004).
    Units(ImportArgs),
    /// Organisations: ma_to_chuc,ten,loai (co_quan, truong_hoc, doanh_nghiep, hop_tac_xa),ma_xa.
    Organisations(ImportArgs),
}

// The import allocates on one thread and frees on another; the system allocator is slow at that.
// (With the crate's `override` feature, C code such as SQLite allocates through mimalloc as well.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    hocvuso::telemetry::init(cli.log_json);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lỗi / error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::from_env()?;
    if let Some(url) = &cli.database_url {
        config.set_database_url(url)?;
    }
    match cli.command {
        Command::Serve { listen } => {
            config.set_listen(listen.as_deref())?;
            commands::serve::serve(config).await?;
        }
        Command::Migrate => commands::migrate(&config).await?,
        Command::Demo { people, seed, reset, no_serve, listen, content } => {
            config.set_listen(listen.as_deref())?;
            let options = DemoOptions { people, seed, reset, serve: !no_serve, content };
            commands::demo::run(config, options).await?;
        }
        Command::Generate { what } => {
            use commands::generate::What;
            let (what, seed, out) = match what {
                GenerateWhat::People { count, seed, out } => (What::People { count }, seed, out),
                GenerateWhat::Units { seed, out } => (What::Units, seed, out),
                GenerateWhat::Organisations { seed, out } => (What::Organisations, seed, out),
            };
            commands::generate::run(what, seed, &out)?;
        }
        Command::Import { what } => {
            use commands::import::What;
            let (what, args) = match what {
                ImportWhat::People(a) => (What::People, a),
                ImportWhat::Units(a) => (What::Units, a),
                ImportWhat::Organisations(a) => (What::Organisations, a),
            };
            let options = Options { skip_invalid: args.skip_invalid, report: args.report };
            return commands::import::run(&config, what, &args.file, &options).await;
        }
        Command::User { what: UserWhat::Add { login, name, roles, unit, organisation, password_stdin } } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let user = commands::user::AddUser { login, name, roles, unit, organisation, password };
            commands::user::add(&config, user).await?;
        }
        Command::Content { what: ContentWhat::Import { dir } } => {
            return commands::learning::import(&config, &dir).await;
        }
        Command::Framework { what: FrameworkWhat::Import { file } } => {
            commands::learning::import_framework(&config, &file).await?
        }
        Command::Xapi { what: XapiWhat::Client { name, read_all } } => {
            commands::learning::xapi_client(&config, &name, read_all).await?
        }
        Command::Certificates { what: CertificatesWhat::RotateKey } => {
            commands::certificates::rotate_key(&config).await?
        }
        Command::Certificates { what: CertificatesWhat::Revoke { id, reason } } => {
            return commands::certificates::revoke(&config, &id, &reason).await;
        }
        Command::Tracking { what: TrackingWhat::Rebuild } => commands::tracking::rebuild(&config).await?,
        Command::Tracking { what: TrackingWhat::Snapshot { quarter } } => {
            commands::tracking::snapshot(&config, quarter.as_deref()).await?
        }
        Command::Assessment { what: AssessmentWhat::Calibrate } => commands::assistant::calibrate(&config).await?,
        Command::Assistant { what: AssistantWhat::Eval { file, verbose } } => {
            commands::assistant::eval(&config, &file, verbose).await?
        }
        Command::Assistant { what: AssistantWhat::FaqImport { file } } => {
            commands::assistant::faq_import(&config, file.as_deref()).await?
        }
        Command::Report { what: ReportWhat::Quarterly { quarter, unit, format, out } } => {
            commands::report::quarterly(&config, &quarter, unit.as_deref(), &format, &out).await?
        }
        Command::Backup { to } => commands::backup::backup(&config, &to).await?,
        Command::Restore { from, force } => commands::backup::restore(&config, &from, force).await?,
    }
    Ok(ExitCode::SUCCESS)
}
