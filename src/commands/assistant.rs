//! `hocvuso assistant eval FILE` and `hocvuso assistant faq-import [FILE]`.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::Deserialize;

use crate::assistant::engine::{self, Assistant};
use crate::assistant::faq;
use crate::commands::open_store;
use crate::config::Config;
use crate::identity::audit::Actor;
use crate::learning::catalog::Catalog;

#[derive(Deserialize)]
struct Case {
    question: String,
    themes: Vec<String>,
}

/// Asks every question of a JSON-lines file (`{"question", "themes"}`) and prints top-1 and top-3
/// (a hit: a returned passage's lesson or FAQ entry carries one of the expected themes) and the
/// latency of answering (index search and passage choice, the index already built).
pub async fn eval(config: &Config, file: &Path, verbose: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let cases: Vec<Case> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).with_context(|| format!("{}: line {}", file.display(), n + 1)))
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(!cases.is_empty(), "{} holds no questions", file.display());
    let store = open_store(config).await?;
    let snapshot = Catalog::new().snapshot(&store).await?;
    let built = Assistant::default().index(&store, &snapshot).await?;
    store.close().await;
    let passages = built.index.passages.len();
    let faq_entries =
        built.index.passages.iter().filter(|p| matches!(p.origin, crate::assistant::index::Origin::Faq { .. })).count();
    if faq_entries == 0 {
        eprintln!(
            "chưa có mục hỏi đáp nào; nạp bộ có sẵn bằng `hocvuso assistant faq-import` / no FAQ entries yet: load the \
             built-in ones with `hocvuso assistant faq-import`"
        );
    }
    let (mut top1, mut top3) = (0, 0);
    let mut times = Vec::with_capacity(cases.len());
    // One warm-up pass, so the figures are those of a running server.
    for c in &cases {
        let _ = engine::answer(&built.index, &c.question);
    }
    for c in &cases {
        let start = Instant::now();
        let answer = engine::answer(&built.index, &c.question);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let hits: Vec<bool> = answer.passages.iter().map(|p| p.themes.iter().any(|t| c.themes.contains(t))).collect();
        top1 += usize::from(hits.first().copied().unwrap_or(false));
        top3 += usize::from(hits.iter().take(3).any(|h| *h));
        if verbose {
            let got: Vec<String> = answer
                .passages
                .iter()
                .map(|p| {
                    format!(
                        "{} [{}]",
                        p.lesson.clone().unwrap_or_else(|| format!("faq {}", p.faq.unwrap_or(0))),
                        p.themes.join(",")
                    )
                })
                .collect();
            let mark = if hits.iter().any(|h| *h) { "ok  " } else { "MISS" };
            println!("{mark} {} -> {}", c.question, got.join(" | "));
            {
                for hit in built.index.search(&c.question, 3) {
                    let p = &built.index.passages[hit.passage];
                    println!("     candidate: {} / {} (coverage {:.2})", p.title, p.heading, hit.coverage);
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |n: usize| 100.0 * n as f64 / cases.len() as f64;
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!("questions: {} (passages indexed: {passages}, of which FAQ entries: {faq_entries})", cases.len());
    println!("top-1: {:.1}%", pct(top1));
    println!("top-3: {:.1}%", pct(top3));
    println!("latency p50: {:.2} ms, p95: {:.2} ms", at(0.5), at(0.95));
    Ok(())
}

/// Loads FAQ entries with keys (the built-in file when none is given); entries already there stay as edited.
pub async fn faq_import(config: &Config, file: Option<&Path>) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let framework = crate::learning::framework::current(&store).await?;
    let drafts = match file {
        Some(f) => {
            faq::parse(&std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?, &framework)
        }
        None => faq::builtin(&framework),
    }?;
    let added = faq::import(&store, &drafts, Actor::CLI).await?;
    store.close().await;
    eprintln!(
        "đã thêm {added} mục hỏi đáp ({} mục trong tệp) / added {added} FAQ entries ({} in the file)",
        drafts.len(),
        drafts.len()
    );
    Ok(())
}

/// `hocvuso assessment calibrate`: fits 2PL parameters from every stored answer (exam sittings and
/// placements), keeps those of items with enough answers, and reports the fit.
pub async fn calibrate(config: &Config) -> anyhow::Result<()> {
    use crate::assistant::irt::{self, Params};
    use crate::assistant::placement;
    let store = open_store(config).await?;
    let entries = crate::assessment::bank::entries(&store).await?;
    let (respondents, items, answers) = placement::stored_answers(&store).await?;
    let defaults: Vec<Params> = items
        .iter()
        .map(|id| {
            let d = entries.iter().find(|e| e.id == *id).map_or(2, |e| e.difficulty as u8);
            Params::from_difficulty(d)
        })
        .collect();
    let fit = irt::calibrate(respondents, &defaults, &answers);
    let mut counts = vec![0usize; items.len()];
    for (_, i, _) in &answers {
        counts[*i] += 1;
    }
    let fitted: Vec<(String, Params, usize)> =
        fit.params.iter().enumerate().filter_map(|(i, p)| p.map(|p| (items[i].clone(), p, counts[i]))).collect();
    placement::save_params(&store, &fitted).await?;
    store.close().await;
    println!("answers: {} from {respondents} sittings and placements, {} items answered", answers.len(), items.len());
    println!(
        "fitted: {} items (at least {} answers each); the others keep the default from their difficulty",
        fitted.len(),
        irt::MIN_ANSWERS
    );
    println!(
        "fit: mean log-likelihood per answer {:.4} (defaults {:.4}); mean |observed - expected| share right {:.3}",
        fit.log_likelihood, fit.default_log_likelihood, fit.mean_residual
    );
    Ok(())
}
