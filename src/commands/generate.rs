use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::registry::generate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    People { count: u64 },
    Units,
    Organisations,
}

/// Writes a synthetic roster in the import format; `-` writes to standard output.
pub fn run(what: What, seed: u64, out: &Path) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = if out == Path::new("-") {
        Box::new(std::io::stdout().lock())
    } else {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Box::new(std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?)
    };
    let sink = std::io::BufWriter::with_capacity(1 << 20, sink);
    let rows = match what {
        What::People { count } => generate::write_people_csv(count, seed, sink)?,
        What::Units => generate::write_units_csv(seed, sink)?,
        What::Organisations => generate::write_organisations_csv(seed, sink)?,
    };
    eprintln!("đã viết {rows} dòng / wrote {rows} rows to {}", out.display());
    Ok(())
}
