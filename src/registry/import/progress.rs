//! Progress of a long import: a bar on a terminal, plain lines otherwise (logs, scripts, tests).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    last_line: Option<Instant>,
    started: Instant,
}

impl Progress {
    pub fn for_stderr() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar, quiet: false, last_line: None, started: Instant::now() }
    }

    pub fn quiet() -> Self {
        Self { bar: None, quiet: true, last_line: None, started: Instant::now() }
    }

    /// Rows written so far inside the still-open transaction.
    pub fn written(&mut self, rows: u64) {
        let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let message =
            format!("đã ghi {rows} dòng (chưa xác nhận) / {rows} rows written, not yet committed — {rate:.0} dòng/s");
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        } else if !self.quiet && self.last_line.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            eprintln!("tiến độ / progress: {message}");
            self.last_line = Some(Instant::now());
        }
    }

    pub fn finish(&mut self, message: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}
