//! Passages from the content: every published lesson split at its `##` headings (the section that
//! answers, not the whole lesson), and every FAQ entry.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::faq::Entry;
use super::index::{Origin, Passage};
use crate::learning::content::Version;
use crate::learning::lesson::{self, Block};

/// The passages of one lesson version.
pub fn of_lesson(version: &Version) -> Vec<Passage> {
    let source = &version.source;
    let parts = lesson::blocks(&source.body, 1).unwrap_or_default();
    let sections: Vec<(String, String)> = parts
        .into_iter()
        .map(|part| {
            let text = part
                .blocks
                .into_iter()
                .map(|(_, block)| match block {
                    Block::Markdown(md) => plain(&md),
                    Block::Image { alt, caption, .. } => format!("{alt} {caption}").trim().to_owned(),
                    Block::Audio { transcript, .. } | Block::Video { transcript, .. } => plain(&transcript),
                    Block::Slides { caption, .. } => plain(&caption),
                })
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            (part.title.unwrap_or_default(), text)
        })
        .collect();
    let context = std::iter::once(source.summary.clone())
        .chain(sections.iter().map(|(h, t)| format!("{h}\n{t}")))
        .chain(source.checks.iter().map(|c| {
            let right = c.choices.get(c.answer).map_or("", String::as_str);
            format!("{} {} {}", c.question, right, c.explain)
        }))
        .collect::<Vec<_>>()
        .join("\n");
    sections
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(heading, text)| Passage {
            origin: Origin::Lesson { slug: source.slug.clone() },
            title: source.title.clone(),
            heading,
            text,
            context: context.clone(),
            competences: source.competences.clone(),
            themes: source.themes.clone(),
        })
        .collect()
}
pub fn of_faq(entry: &Entry) -> Passage {
    Passage {
        origin: Origin::Faq { id: entry.id },
        title: entry.question.clone(),
        heading: String::new(),
        text: entry.answer.clone(),
        context: String::new(),
        competences: entry.competences.clone(),
        themes: entry.themes.clone(),
    }
}

/// Markdown as plain text: one line per paragraph or list item (numbered items keep their number),
/// emphasis dropped without breaking the sentence.
pub fn plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut numbers: Vec<Option<u64>> = Vec::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::Start(Tag::List(first)) => numbers.push(first),
            Event::End(TagEnd::List(_)) => {
                numbers.pop();
            }
            Event::Start(Tag::Item) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                match numbers.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str("• "),
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_) | TagEnd::TableRow)
                if !out.ends_with('\n') =>
            {
                out.push('\n');
            }
            Event::End(TagEnd::TableCell) => out.push_str(" — "),
            _ => {}
        }
    }
    out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// The start of a passage, cut at a line or a word, at most `max` characters.
pub fn snippet(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let end = cut.rfind('\n').filter(|&i| i > max / 2).or_else(|| cut.rfind(' ')).unwrap_or(cut.len());
    format!("{} …", cut[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_lines() {
        let text = plain("**VNeID** là ứng dụng.\n\n1. Mở **CH Play**.\n2. Gõ VNeID.\n\n- một\n- hai\n");
        assert_eq!(text, "VNeID là ứng dụng.\n1. Mở CH Play.\n2. Gõ VNeID.\n• một\n• hai");
        assert_eq!(snippet("một hai ba bốn", 8), "một hai …");
    }
}
