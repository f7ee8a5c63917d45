//! A lesson as written (front matter + Markdown body), checked once, and rendered to blocks.
//! Files and the web editor produce the same `LessonSource`, checked by the same code.

use pulldown_cmark::{Event, Options, Parser};
use serde::{Deserialize, Serialize};

use crate::domain::text::clean;
use crate::learning::framework::{Framework, describe_toml_error};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LessonSource {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub level: u8,
    pub minutes: u16,
    pub competences: Vec<String>,
    pub themes: Vec<String>,
    pub sources: Vec<Source>,
    pub checks: Vec<Check>,
    pub body: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    #[serde(default)]
    pub publisher: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub question: String,
    pub choices: Vec<String>,
    pub answer: usize,
    #[serde(default)]
    pub explain: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    summary: String,
    level: u8,
    minutes: u16,
    competences: Vec<String>,
    themes: Vec<String>,
    #[serde(rename = "source", default)]
    sources: Vec<Source>,
    #[serde(rename = "check", default)]
    checks: Vec<Check>,
}

/// One problem, with the line it is on (in the file, or in the body for the editor).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl Problem {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Self { line, message: message.into() }
    }
}

pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 80
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Reads a lesson file: `+++` TOML front matter `+++`, then Markdown. Lines in problems are file lines.
pub fn parse_file(slug: &str, text: &str) -> Result<(LessonSource, usize), Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
    let Some(rest) = text.strip_prefix("+++\n") else {
        return Err(vec![Problem::at(1, "thiếu phần đầu +++ … +++ / the file must start with +++ front matter")]);
    };
    let Some(end) = rest.find("\n+++\n").or_else(|| rest.strip_suffix("\n+++").map(|r| r.len())) else {
        return Err(vec![Problem::at(
            1,
            "phần đầu không có dòng +++ kết thúc / the front matter is not closed by +++",
        )]);
    };
    let front = &rest[..end];
    let body = rest.get(end + 5..).unwrap_or_default();
    let body_first_line = front.matches('\n').count() + 4;
    let fm: FrontMatter = toml::from_str(front).map_err(|e| {
        let described = describe_toml_error(front, &e);
        // The front matter starts on line 2 of the file.
        let line = e.span().map_or(1, |s| front[..s.start.min(front.len())].matches('\n').count() + 2);
        vec![Problem::at(line, described.split_once(": ").map_or(described.clone(), |(_, m)| m.to_owned()))]
    })?;
    let source = LessonSource {
        slug: slug.to_owned(),
        title: clean(&fm.title),
        summary: clean(&fm.summary),
        level: fm.level,
        minutes: fm.minutes,
        competences: fm.competences.iter().map(|c| clean(c)).collect(),
        themes: fm.themes.iter().map(|t| clean(t)).collect(),
        sources: fm.sources,
        checks: fm.checks,
        body: clean(body),
    };
    Ok((source, body_first_line))
}

/// A block of a lesson, as written, before media paths are resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Markdown(String),
    Image { src: String, alt: String, caption: String },
    Audio { src: String, transcript: String },
    Video { src: String, poster: Option<String>, transcript: String },
    Slides { srcs: Vec<String>, caption: String },
}

/// A part of a lesson: what comes under one `##` heading (the first part has the lesson's title).
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub title: Option<String>,
    pub blocks: Vec<(usize, Block)>,
}

/// Splits the body into parts and blocks; lines are counted from `first_line`.
pub fn blocks(body: &str, first_line: usize) -> Result<Vec<Part>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut parts = vec![Part { title: None, blocks: Vec::new() }];
    let mut text = String::new();
    let mut text_line = first_line;
    let mut lines = body.lines().enumerate().map(|(i, l)| (i + first_line, l));
    let flush = |text: &mut String, line: usize, parts: &mut Vec<Part>| {
        if !text.trim().is_empty() {
            parts.last_mut().expect("one part").blocks.push((line, Block::Markdown(std::mem::take(text))));
        }
        text.clear();
    };
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(title) = trimmed.strip_prefix("## ") {
            flush(&mut text, text_line, &mut parts);
            parts.push(Part { title: Some(clean(title)), blocks: Vec::new() });
        } else if trimmed.starts_with("# ") {
            problems.push(Problem::at(n, "dùng ## cho tiêu đề phần; tiêu đề bài nằm ở phần đầu / use ## for headings"));
        } else if let Some(directive) = trimmed.strip_prefix(":::") {
            flush(&mut text, text_line, &mut parts);
            let mut inner = String::new();
            let mut closed = false;
            for (_, l) in lines.by_ref() {
                if l.trim() == ":::" {
                    closed = true;
                    break;
                }
                inner.push_str(l);
                inner.push('\n');
            }
            if !closed {
                problems.push(Problem::at(n, "khối ::: không có dòng ::: kết thúc / the ::: block is not closed"));
            }
            match directive_block(directive.trim(), inner.trim()) {
                Ok(block) => parts.last_mut().expect("one part").blocks.push((n, block)),
                Err(message) => problems.push(Problem::at(n, message)),
            }
        } else if trimmed.starts_with("![") {
            flush(&mut text, text_line, &mut parts);
            match image_line(trimmed) {
                Ok(block) => parts.last_mut().expect("one part").blocks.push((n, block)),
                Err(message) => problems.push(Problem::at(n, message)),
            }
        } else {
            if text.is_empty() {
                text_line = n;
            }
            text.push_str(line);
            text.push('\n');
        }
    }
    flush(&mut text, text_line, &mut parts);
    if parts[0].blocks.is_empty() && parts.len() > 1 {
        parts.remove(0);
    }
    if problems.is_empty() { Ok(parts) } else { Err(problems) }
}

fn image_line(line: &str) -> Result<Block, String> {
    let inner = line.strip_prefix("![").unwrap_or(line);
    let (alt, rest) =
        inner.split_once("](").ok_or("hình viết sai; dùng ![mô tả](media/tep.svg) / malformed picture")?;
    let target = rest.strip_suffix(')').ok_or("hình phải đứng riêng một dòng / a picture stands alone on its line")?;
    let (src, caption) = match target.split_once(' ') {
        Some((src, caption)) => (src, caption.trim().trim_matches('"')),
        None => (target, ""),
    };
    let alt = clean(alt);
    if alt.is_empty() {
        return Err(format!("hình {src} thiếu mô tả (alt) / the picture {src} has no alt text"));
    }
    Ok(Block::Image { src: src.to_owned(), alt, caption: clean(caption) })
}

fn directive_block(directive: &str, inner: &str) -> Result<Block, String> {
    let (kind, attrs) = directive.split_once(' ').unwrap_or((directive, ""));
    let attr = |name: &str| -> Option<String> {
        let start = attrs.find(&format!("{name}=\""))? + name.len() + 2;
        let len = attrs[start..].find('"')?;
        Some(attrs[start..start + len].to_owned())
    };
    let src = attr("src").ok_or_else(|| format!("khối {kind} thiếu src=\"…\" / the {kind} block needs src"))?;
    if inner.is_empty() {
        return Err(format!(
            "khối {kind} cần lời thoại hoặc mô tả bên trong / the {kind} block needs a transcript or description"
        ));
    }
    let transcript = inner.to_owned();
    match kind {
        "audio" => Ok(Block::Audio { src, transcript }),
        "video" => Ok(Block::Video { src, poster: attr("poster"), transcript }),
        "slides" => {
            Ok(Block::Slides { srcs: src.split_whitespace().map(str::to_owned).collect(), caption: transcript })
        }
        other => Err(format!("không có loại khối {other}; dùng audio, video, slides / unknown block {other}")),
    }
}

/// Markdown → safe HTML; raw HTML in the source is refused, not silently passed.
pub fn markdown_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default().link_rel(Some("noopener noreferrer")).clean(&html).to_string()
}

fn raw_html_lines(markdown: &str, first_line: usize) -> Vec<Problem> {
    Parser::new(markdown)
        .into_offset_iter()
        .filter(|(event, _)| matches!(event, Event::Html(_) | Event::InlineHtml(_)))
        .map(|(_, range)| {
            let line = first_line + markdown[..range.start].matches('\n').count();
            Problem::at(line, "không dùng HTML trong bài; chỉ dùng Markdown / raw HTML is not allowed")
        })
        .collect()
}

/// Plain text of Markdown, for search and speech.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(_) => out.push_str(". "),
            _ => {}
        }
    }
    out.replace(". . ", ". ").replace(".. ", ". ")
}

impl LessonSource {
    /// Everything a lesson must satisfy. `media` says whether a referenced file exists (and may
    /// rewrite nothing: resolution happens after the check).
    pub fn check(&self, framework: &Framework, body_first_line: usize, media: &dyn Fn(&str) -> bool) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut top = |m: String| problems.push(Problem::at(1, m));
        if !valid_slug(&self.slug) {
            top(format!("mã bài \"{}\" chỉ gồm a-z, 0-9 và dấu - / the slug must be a-z, 0-9 and -", self.slug));
        }
        if self.title.chars().count() < 3 || self.title.chars().count() > 150 {
            top("tiêu đề cần 3–150 ký tự / the title needs 3–150 characters".into());
        }
        if self.summary.is_empty() {
            top("thiếu tóm tắt (summary) / the summary is missing".into());
        }
        if !(1..=8).contains(&self.level) {
            top(format!("bậc {} không nằm trong 1–8 / level must be 1–8", self.level));
        }
        if !(1..=240).contains(&self.minutes) {
            top("thời lượng (minutes) phải từ 1 đến 240 / minutes must be 1–240".into());
        }
        if self.competences.is_empty() {
            top("cần ít nhất một mã năng lực / at least one competence code".into());
        }
        for code in &self.competences {
            if framework.competence(code).is_none() {
                top(format!(
                    "mã năng lực không có trong khung {}: {code} / unknown competence code {code}",
                    framework.version
                ));
            }
        }
        if self.themes.is_empty() {
            top("cần ít nhất một mã chủ đề / at least one theme code".into());
        }
        for code in &self.themes {
            if framework.theme(code).is_none() {
                top(format!("mã chủ đề không có: {code} / unknown theme code {code}"));
            }
        }
        if self.sources.is_empty() {
            top("cần nêu ít nhất một nguồn hướng dẫn chính thức ([[source]]) / name at least one official source"
                .into());
        }
        for source in &self.sources {
            if source.title.trim().is_empty() {
                top("nguồn thiếu tiêu đề / a source has no title".into());
            }
            if let Some(url) = &source.url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                top(format!("địa chỉ nguồn phải bắt đầu bằng https:// : {url} / source URL must be http(s)"));
            }
        }
        if self.checks.is_empty() {
            top("cần ít nhất một câu hỏi kiểm tra ([[check]]) / at least one check question".into());
        }
        for (i, check) in self.checks.iter().enumerate() {
            if check.question.trim().is_empty() || !(2..=6).contains(&check.choices.len()) {
                top(format!(
                    "câu hỏi {} cần nội dung và 2–6 phương án / question {} needs text and 2–6 choices",
                    i + 1,
                    i + 1
                ));
            } else if check.answer >= check.choices.len() {
                top(format!("câu hỏi {}: answer = {} không có phương án / answer out of range", i + 1, check.answer));
            }
        }
        match blocks(&self.body, body_first_line) {
            Err(mut more) => problems.append(&mut more),
            Ok(parts) => {
                if parts.iter().all(|p| p.blocks.is_empty()) {
                    problems.push(Problem::at(body_first_line, "bài không có nội dung / the lesson body is empty"));
                }
                for (line, block) in parts.iter().flat_map(|p| p.blocks.iter()) {
                    if let Block::Markdown(md) = block {
                        problems.extend(raw_html_lines(md, *line));
                    }
                    for src in media_refs(block) {
                        if !media(src) {
                            problems.push(Problem::at(*line, format!("không tìm thấy tệp {src} / missing file {src}")));
                        }
                    }
                }
            }
        }
        problems.sort_by_key(|p| p.line);
        problems
    }

    /// Replaces every media path through `resolve` (files → store keys at import).
    pub fn map_media(&mut self, resolve: &dyn Fn(&str) -> Option<String>) {
        let mut out = String::with_capacity(self.body.len());
        for line in self.body.lines() {
            let mut line = line.to_owned();
            for src in line_media(&line) {
                if let Some(new) = resolve(&src) {
                    line = line.replace(&src, &new);
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        self.body = out;
    }

    /// What the synthesised voice reads: title, summary, text, transcripts, then the questions.
    pub fn spoken_text(&self) -> String {
        let mut out = format!("{}. {}. ", self.title, self.summary);
        if let Ok(parts) = blocks(&self.body, 1) {
            for part in parts {
                if let Some(title) = part.title {
                    out.push_str(&title);
                    out.push_str(". ");
                }
                for (_, block) in part.blocks {
                    match block {
                        Block::Markdown(md) => out.push_str(&plain_text(&md)),
                        Block::Image { alt, .. } => out.push_str(&format!("Hình minh họa: {alt}. ")),
                        Block::Audio { transcript, .. } | Block::Video { transcript, .. } => {
                            out.push_str(&plain_text(&transcript))
                        }
                        Block::Slides { caption, .. } => out.push_str(&plain_text(&caption)),
                    }
                }
            }
        }
        out.push_str("Câu hỏi kiểm tra. ");
        for (i, check) in self.checks.iter().enumerate() {
            out.push_str(&format!("Câu {}: {} ", i + 1, check.question));
            for (j, choice) in check.choices.iter().enumerate() {
                out.push_str(&format!("Phương án {}: {}. ", j + 1, choice));
            }
        }
        out
    }
}

fn media_refs(block: &Block) -> Vec<&str> {
    match block {
        Block::Markdown(_) => Vec::new(),
        Block::Image { src, .. } | Block::Audio { src, .. } => vec![src],
        Block::Video { src, poster, .. } => std::iter::once(src.as_str()).chain(poster.as_deref()).collect(),
        Block::Slides { srcs, .. } => srcs.iter().map(String::as_str).collect(),
    }
}

/// Every media path the body refers to.
pub fn media_in(body: &str) -> Vec<String> {
    body.lines().flat_map(line_media).collect()
}

/// Media paths written on one line of the body (pictures and directive attributes).
fn line_media(line: &str) -> Vec<String> {
    let trimmed = line.trim();
    if trimmed.starts_with("![") {
        if let Ok(Block::Image { src, .. }) = image_line(trimmed) {
            return vec![src];
        }
    } else if let Some(directive) = trimmed.strip_prefix(":::")
        && !directive.trim().is_empty()
        && let Ok(block) = directive_block(directive.trim(), "-")
    {
        return media_refs(&block).into_iter().map(str::to_owned).collect();
    }
    Vec::new()
}

/// The editor's check-question format: `? question`, `- wrong`, `* right`, `> explanation`.
pub fn checks_from_text(text: &str) -> Result<Vec<Check>, Vec<Problem>> {
    let mut checks: Vec<Check> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let n = i + 1;
        if line.is_empty() {
            continue;
        }
        let (mark, rest) = line.split_at(1);
        let rest = clean(rest);
        match (mark, checks.last_mut()) {
            ("?", _) => {
                checks.push(Check { question: rest, choices: Vec::new(), answer: usize::MAX, explain: String::new() })
            }
            ("-", Some(check)) => check.choices.push(rest),
            ("*", Some(check)) => {
                if check.answer != usize::MAX {
                    problems.push(Problem::at(n, "mỗi câu chỉ một phương án đúng (*) / one right choice per question"));
                }
                check.answer = check.choices.len();
                check.choices.push(rest);
            }
            (">", Some(check)) => check.explain = rest,
            _ => problems.push(Problem::at(
                n,
                "dòng phải bắt đầu bằng ? (câu hỏi), - (sai), * (đúng) hoặc > (giải thích) / start with ?, -, * or >",
            )),
        }
    }
    if let Some(i) = checks.iter().position(|c| c.answer == usize::MAX) {
        problems.push(Problem::at(
            1,
            format!("câu hỏi {} chưa có phương án đúng (*) / question {} has no right choice", i + 1, i + 1),
        ));
    }
    if problems.is_empty() { Ok(checks) } else { Err(problems) }
}

pub fn checks_to_text(checks: &[Check]) -> String {
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!("? {}\n", check.question));
        for (i, choice) in check.choices.iter().enumerate() {
            out.push_str(&format!("{} {}\n", if i == check.answer { '*' } else { '-' }, choice));
        }
        if !check.explain.is_empty() {
            out.push_str(&format!("> {}\n", check.explain));
        }
        out.push('\n');
    }
    out
}

/// The editor's sources format: one per line, `publisher | title | url` (url optional).
pub fn sources_from_text(text: &str) -> Vec<Source> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut fields = line.split('|').map(clean);
            let publisher = fields.next().unwrap_or_default();
            let title = fields.next().unwrap_or_default();
            let url = fields.next().filter(|u| !u.is_empty());
            Source { title, publisher, url }
        })
        .collect()
}

pub fn sources_to_text(sources: &[Source]) -> String {
    sources
        .iter()
        .map(|s| format!("{} | {} | {}\n", s.publisher, s.title, s.url.as_deref().unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\ntitle = \"Bài thử\"\nsummary = \"Tóm tắt\"\nlevel = 1\nminutes = 5\n\
        competences = [\"2.6\"]\nthemes = [\"vneid_danh_tinh_so\"]\n[[source]]\ntitle = \"Hướng dẫn\"\n\
        [[check]]\nquestion = \"Hỏi?\"\nchoices = [\"A\", \"B\"]\nanswer = 1\n+++\nMở đầu.\n\n\
        ![Màn hình VNeID](media/a.svg)\n\n## Bước 1\nLàm theo.\n";

    #[test]
    fn a_good_file_parses_into_parts() {
        let (lesson, first) = parse_file("bai-thu", GOOD).unwrap();
        assert_eq!(first, 15);
        let parts = blocks(&lesson.body, first).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].title.as_deref(), Some("Bước 1"));
        assert!(matches!(&parts[0].blocks[1].1, Block::Image { alt, .. } if alt == "Màn hình VNeID"));
        let framework = Framework::parse(crate::learning::framework::BUILTIN).unwrap();
        assert!(lesson.check(&framework, first, &|_| true).is_empty());
        let missing = lesson.check(&framework, first, &|_| false);
        assert_eq!(missing[0].line, 17, "{missing:?}");
    }

    #[test]
    fn bad_front_matter_names_its_line() {
        let bad = GOOD.replace("level = 1", "level = \"một\"");
        let problems = parse_file("bai-thu", &bad).unwrap_err();
        assert_eq!(problems[0].line, 4, "{problems:?}");
    }

    #[test]
    fn picture_without_alt_and_raw_html_are_refused() {
        let bad = GOOD.replace("![Màn hình VNeID]", "![]").replace("Làm theo.", "Làm <script>x</script> theo.");
        let (lesson, first) = parse_file("bai-thu", &bad).unwrap();
        let framework = Framework::parse(crate::learning::framework::BUILTIN).unwrap();
        let problems = lesson.check(&framework, first, &|_| true);
        assert!(problems.iter().any(|p| p.line == 17 && p.message.contains("alt")), "{problems:?}");
    }

    #[test]
    fn markdown_is_sanitised() {
        let html = markdown_html("[x](javascript:alert(1)) **đậm**");
        assert!(!html.contains("javascript"), "{html}");
        assert!(html.contains("<strong>đậm</strong>"));
    }

    #[test]
    fn editor_checks_round_trip() {
        let text = "? Ai được biết OTP?\n- Công an\n* Chỉ mình bạn\n> Không ai khác.\n";
        let checks = checks_from_text(text).unwrap();
        assert_eq!(checks[0].answer, 1);
        assert_eq!(checks_from_text(&checks_to_text(&checks)).unwrap(), checks);
        assert!(checks_from_text("? Hỏi\n- a\n- b\n").is_err());
    }
}
