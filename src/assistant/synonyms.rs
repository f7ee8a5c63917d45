//! Everyday words and the words the lessons use, kept as data (`data-builtin/assistant-synonyms.txt`,
//! one group per line, phrases separated by `|`): a question holding one phrase of a group is also
//! searched with the group's other phrases.

use super::text::folded_words;

/// The built-in list; editors extend it by editing the file (it is compiled in).
pub const BUILTIN: &str = include_str!("../../data-builtin/assistant-synonyms.txt");

/// A phrase added to a question: which words of the question it stands for, and its words (folded).
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    pub span: (usize, usize),
    pub phrase: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Vec<String>>>,
}

impl Synonyms {
    pub fn parse(text: &str) -> Self {
        let groups = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split('|').map(folded_words).filter(|p| !p.is_empty()).collect::<Vec<_>>())
            .filter(|g| g.len() > 1)
            .collect();
        Self { groups }
    }

    pub fn builtin() -> Self {
        Self::parse(BUILTIN)
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The other phrases of every group one of whose phrases the question holds (as whole words).
    pub fn expand(&self, question: &[String]) -> Vec<Expansion> {
        let mut out: Vec<Expansion> = Vec::new();
        for group in &self.groups {
            let spans: Vec<(usize, usize)> = group.iter().filter_map(|p| find(question, p)).collect();
            let Some(&span) = spans.iter().max_by_key(|(s, e)| e - s) else { continue };
            for phrase in group {
                if find(question, phrase).is_none() && !out.iter().any(|x| x.phrase == *phrase) {
                    out.push(Expansion { span, phrase: phrase.clone() });
                }
            }
        }
        out
    }
}

fn find(words: &[String], phrase: &[String]) -> Option<(usize, usize)> {
    words.windows(phrase.len()).position(|w| w == phrase).map(|start| (start, start + phrase.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_brings_its_group() {
        let s = Synonyms::parse("# c\nchuyển khoản | thanh toán\napp | ứng dụng\n\nđơn\n");
        assert_eq!(s.len(), 2);
        let q = folded_words("Cái app chuyen khoan");
        let e = s.expand(&q);
        assert!(e.contains(&Expansion { span: (2, 4), phrase: vec!["thanh".into(), "toan".into()] }), "{e:?}");
        assert!(e.contains(&Expansion { span: (1, 2), phrase: vec!["ung".into(), "dung".into()] }), "{e:?}");
        assert!(s.expand(&folded_words("khoan")).is_empty());
        assert!(Synonyms::builtin().len() > 40);
    }
}
