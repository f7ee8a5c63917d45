//! One assessment item: its file format, its checks, how it is shown and how an answer is graded.
//! The kinds of the format are in `content/README.md` ("The question bank").

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::learning::framework::Framework;
use crate::learning::lesson::valid_slug;

/// An item as written in a bank file: every key of every kind optional, checked into an [`Item`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawItem {
    pub id: String,
    pub kind: String,
    pub competence: String,
    pub themes: Vec<String>,
    pub level: u8,
    pub difficulty: u8,
    pub question: String,
    pub explain: String,
    choices: Option<Vec<String>>,
    answer: Option<toml::Value>,
    answers: Option<Vec<usize>>,
    steps: Option<Vec<String>>,
    pairs: Option<Vec<(String, String)>>,
    messages: Option<Vec<Message>>,
    qr: Option<Qr>,
    fields: Option<Vec<Field>>,
    rules: Option<Rules>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub from: String,
    pub text: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Qr {
    pub bank: String,
    pub bin: String,
    pub account: String,
    pub name: String,
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub label: String,
    pub answer: toml::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub min_length: usize,
    #[serde(default)]
    pub upper: bool,
    #[serde(default)]
    pub lower: bool,
    #[serde(default)]
    pub digit: bool,
    #[serde(default)]
    pub symbol: bool,
    #[serde(default)]
    pub avoid: Vec<String>,
}

/// A checked item: what the bank stores (as JSON) and what sittings draw.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub id: String,
    pub competence: String,
    pub themes: Vec<String>,
    pub level: u8,
    pub difficulty: u8,
    pub question: String,
    pub explain: String,
    pub task: Task,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    Single { choices: Vec<String>, answer: usize },
    Multiple { choices: Vec<String>, answers: Vec<usize> },
    TrueFalse { answer: bool },
    Ordering { steps: Vec<String> },
    Matching { pairs: Vec<(String, String)> },
    Sms { messages: Vec<Message>, answer: usize },
    Vietqr { qr: Qr },
    Form { fields: Vec<FormField> },
    Password { rules: Rules },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormField {
    Text { label: String, answer: String },
    Date { label: String, answer: String },
    Choice { label: String, choices: Vec<String>, answer: usize },
}

impl FormField {
    pub fn label(&self) -> &str {
        match self {
            FormField::Text { label, .. } | FormField::Date { label, .. } | FormField::Choice { label, .. } => label,
        }
    }
}

pub const KINDS: [(&str, &str); 9] = [
    ("single", "Chọn một đáp án"),
    ("multiple", "Chọn mọi đáp án đúng"),
    ("true_false", "Đúng hay sai"),
    ("ordering", "Sắp xếp các bước"),
    ("matching", "Ghép nối"),
    ("sms", "Nhận diện tin nhắn lừa đảo"),
    ("vietqr", "Đọc mã VietQR"),
    ("form", "Điền biểu mẫu dịch vụ công"),
    ("password", "Đặt mật khẩu mạnh"),
];

impl Task {
    pub fn kind(&self) -> &'static str {
        match self {
            Task::Single { .. } => "single",
            Task::Multiple { .. } => "multiple",
            Task::TrueFalse { .. } => "true_false",
            Task::Ordering { .. } => "ordering",
            Task::Matching { .. } => "matching",
            Task::Sms { .. } => "sms",
            Task::Vietqr { .. } => "vietqr",
            Task::Form { .. } => "form",
            Task::Password { .. } => "password",
        }
    }

    /// How many things a sitting shuffles for this item (choices, steps, right-hand texts, messages).
    pub fn shuffled_len(&self) -> usize {
        match self {
            Task::Single { choices, .. } | Task::Multiple { choices, .. } => choices.len(),
            Task::Ordering { steps } => steps.len(),
            Task::Matching { pairs } => pairs.len(),
            Task::Sms { messages, .. } => messages.len(),
            Task::TrueFalse { .. } | Task::Vietqr { .. } | Task::Form { .. } | Task::Password { .. } => 0,
        }
    }
}

fn nfc_text(s: &str) -> bool {
    !s.trim().is_empty() && s.nfc().eq(s.chars())
}

fn distinct<'a>(texts: impl Iterator<Item = &'a String>) -> bool {
    let mut seen = BTreeSet::new();
    texts.into_iter().all(|t| seen.insert(t.as_str()))
}

impl RawItem {
    /// Checks the item against the format and the framework; every problem in one list.
    pub fn check(self, framework: &Framework) -> Result<Item, Vec<String>> {
        let mut problems = Vec::new();
        let mut bad = |m: &str| problems.push(m.to_owned());
        if !valid_slug(&self.id) {
            bad("id chỉ gồm a-z, 0-9 và - / id is a-z, 0-9 and -");
        }
        if !framework.competences().any(|c| c.code == self.competence) {
            bad(&format!("năng lực không có: {} / unknown competence", self.competence));
        }
        if self.themes.is_empty() {
            bad("cần ít nhất một chủ đề / at least one theme");
        }
        for theme in &self.themes {
            if !framework.themes.iter().any(|t| &t.code == theme) {
                bad(&format!("chủ đề không có: {theme} / unknown theme"));
            }
        }
        if !(1..=8).contains(&self.level) {
            bad("level từ 1 đến 8 / level is 1..8");
        }
        if !(1..=3).contains(&self.difficulty) {
            bad("difficulty từ 1 đến 3 / difficulty is 1..3");
        }
        if !nfc_text(&self.question) || !nfc_text(&self.explain) {
            bad("question và explain phải có nội dung (Unicode NFC) / question and explain must be non-empty NFC text");
        }
        let task = self.task(&mut problems);
        match task {
            Some(task) if problems.is_empty() => Ok(Item {
                id: self.id,
                competence: self.competence,
                themes: self.themes,
                level: self.level,
                difficulty: self.difficulty,
                question: self.question,
                explain: self.explain,
                task,
            }),
            _ => Err(problems),
        }
    }

    fn task(&self, problems: &mut Vec<String>) -> Option<Task> {
        let mut bad = |m: &str| {
            problems.push(m.to_owned());
            None
        };
        let allowed: &[&str] = match self.kind.as_str() {
            "single" | "sms" => &["answer"],
            "multiple" => &["answers"],
            "true_false" => &["answer"],
            _ => &[],
        };
        let present = [
            ("choices", self.choices.is_some()),
            ("answer", self.answer.is_some()),
            ("answers", self.answers.is_some()),
            ("steps", self.steps.is_some()),
            ("pairs", self.pairs.is_some()),
            ("messages", self.messages.is_some()),
            ("qr", self.qr.is_some()),
            ("fields", self.fields.is_some()),
            ("rules", self.rules.is_some()),
        ];
        let own: &[&str] = match self.kind.as_str() {
            "single" | "multiple" => &["choices"],
            "ordering" => &["steps"],
            "matching" => &["pairs"],
            "sms" => &["messages"],
            "vietqr" => &["qr"],
            "form" => &["fields"],
            "password" => &["rules"],
            "true_false" => &[],
            other => return bad(&format!("kind không có: {other} / unknown kind")),
        };
        for (key, set) in present {
            if set && !own.contains(&key) && !allowed.contains(&key) {
                return bad(&format!("kind = \"{}\" không dùng khóa {key} / the kind takes no {key}", self.kind));
            }
        }
        let index = |len: usize| match &self.answer {
            Some(toml::Value::Integer(i)) if *i >= 0 && (*i as usize) < len => Some(*i as usize),
            _ => None,
        };
        match self.kind.as_str() {
            "single" | "multiple" => {
                let choices = self.choices.clone().unwrap_or_default();
                let min = if self.kind == "single" { 2 } else { 3 };
                if choices.len() < min
                    || choices.len() > 6
                    || !choices.iter().all(|c| nfc_text(c))
                    || !distinct(choices.iter())
                {
                    return bad(&format!("choices: {min}–6 lựa chọn khác nhau / {min}-6 distinct choices"));
                }
                if self.kind == "single" {
                    let Some(answer) = index(choices.len()) else {
                        return bad("answer: chỉ số của lựa chọn đúng, từ 0 / the index of the right choice");
                    };
                    Some(Task::Single { choices, answer })
                } else {
                    let mut answers = self.answers.clone().unwrap_or_default();
                    answers.sort_unstable();
                    answers.dedup();
                    let ok = !answers.is_empty()
                        && answers.len() < choices.len()
                        && answers.len() == self.answers.as_ref().map_or(0, Vec::len)
                        && answers.iter().all(|a| *a < choices.len());
                    if !ok {
                        return bad(
                            "answers: các chỉ số khác nhau, ít nhất một, không phải tất cả / distinct indices, not all",
                        );
                    }
                    Some(Task::Multiple { choices, answers })
                }
            }
            "true_false" => match &self.answer {
                Some(toml::Value::Boolean(answer)) => Some(Task::TrueFalse { answer: *answer }),
                _ => bad("answer: true hoặc false / answer is true or false"),
            },
            "ordering" => {
                let steps = self.steps.clone().unwrap_or_default();
                if !(3..=6).contains(&steps.len()) || !steps.iter().all(|s| nfc_text(s)) || !distinct(steps.iter()) {
                    return bad("steps: 3–6 bước khác nhau / 3-6 distinct steps");
                }
                Some(Task::Ordering { steps })
            }
            "matching" => {
                let pairs = self.pairs.clone().unwrap_or_default();
                let ok = (3..=5).contains(&pairs.len())
                    && pairs.iter().all(|(l, r)| nfc_text(l) && nfc_text(r))
                    && distinct(pairs.iter().map(|(l, _)| l))
                    && distinct(pairs.iter().map(|(_, r)| r));
                if !ok {
                    return bad("pairs: 3–5 cặp, vế trái và vế phải khác nhau / 3-5 pairs with distinct sides");
                }
                Some(Task::Matching { pairs })
            }
            "sms" => {
                let messages = self.messages.clone().unwrap_or_default();
                if !(3..=5).contains(&messages.len())
                    || !messages.iter().all(|m| nfc_text(&m.from) && nfc_text(&m.text))
                {
                    return bad("messages: 3–5 tin nhắn { from, text } / 3-5 messages");
                }
                let Some(answer) = index(messages.len()) else {
                    return bad("answer: chỉ số của tin nhắn đúng, từ 0 / the index of the right message");
                };
                Some(Task::Sms { messages, answer })
            }
            "vietqr" => {
                let qr = self.qr.clone()?;
                let digits = |s: &str, lo: usize, hi: usize| {
                    (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
                };
                let ok = digits(&qr.bin, 6, 6)
                    && digits(&qr.account, 6, 19)
                    && (2..=50).contains(&qr.name.len())
                    && qr.name.bytes().all(|b| b.is_ascii_uppercase() || b == b' ')
                    && (1000..=500_000_000).contains(&qr.amount)
                    && nfc_text(&qr.bank)
                    && qr.note.as_deref().is_none_or(|n| {
                        (1..=25).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
                    });
                if !ok {
                    return bad(
                        "qr: bin 6 chữ số, account 6–19 chữ số, name chữ in hoa không dấu, amount 1.000–500.000.000, \
                         note ≤ 25 chữ không dấu / bin, account, name, amount or note out of format",
                    );
                }
                Some(Task::Vietqr { qr })
            }
            "form" => {
                let raw = self.fields.clone().unwrap_or_default();
                if !(2..=6).contains(&raw.len()) {
                    return bad("fields: 2–6 ô / 2-6 fields");
                }
                let mut fields = Vec::with_capacity(raw.len());
                for f in raw {
                    if !nfc_text(&f.label) {
                        return bad("fields: mỗi ô cần label / every field needs a label");
                    }
                    let field = match (&f.choices, f.kind.as_deref(), &f.answer) {
                        (Some(choices), None, toml::Value::Integer(i))
                            if *i >= 0 && (*i as usize) < choices.len() && choices.len() >= 2 =>
                        {
                            FormField::Choice { label: f.label, choices: choices.clone(), answer: *i as usize }
                        }
                        (None, Some("date"), toml::Value::String(d))
                            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() =>
                        {
                            FormField::Date { label: f.label, answer: d.clone() }
                        }
                        (None, None, toml::Value::String(s)) if nfc_text(s) => {
                            FormField::Text { label: f.label, answer: s.clone() }
                        }
                        _ => {
                            return bad(&format!(
                                "ô \"{}\": answer là chữ, ngày YYYY-MM-DD (kind = \"date\") hoặc chỉ số trong choices \
                                 / answer is text, a date or a choice index",
                                f.label
                            ));
                        }
                    };
                    fields.push(field);
                }
                Some(Task::Form { fields })
            }
            "password" => {
                let rules = self.rules.clone()?;
                if !(6..=20).contains(&rules.min_length) {
                    return bad("rules.min_length từ 6 đến 20 / min_length is 6..20");
                }
                Some(Task::Password { rules })
            }
            _ => None,
        }
    }
}

/// What a learner's answer was, in the item's own order (not the shuffled order shown).
/// A password is never kept: only which rules it broke.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Response {
    Choice { choice: usize },
    Choices { choices: Vec<usize> },
    Truth { truth: bool },
    Sequence { sequence: Vec<usize> },
    Texts { texts: Vec<String> },
    Broken { broken: Vec<String> },
}

/// Why an answer could not be read from the form.
#[derive(Debug, PartialEq)]
pub struct Unanswered;

fn values<'a>(form: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    form.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.trim())
}

fn value<'a>(form: &'a [(String, String)], name: &'a str) -> Option<&'a str> {
    values(form, name).next().filter(|v| !v.is_empty())
}

/// Reads a shown position, and turns it back into the item's own index through the sitting's order.
fn unshuffle(order: &[usize], shown: &str) -> Option<usize> {
    shown.parse::<usize>().ok().and_then(|s| order.get(s).copied())
}

impl Item {
    /// Reads the learner's answer from the posted form. `order[shown] = own index`.
    pub fn read(&self, order: &[usize], form: &[(String, String)]) -> Result<Response, Unanswered> {
        match &self.task {
            Task::Single { .. } | Task::Sms { .. } => {
                let choice = value(form, "c").and_then(|v| unshuffle(order, v)).ok_or(Unanswered)?;
                Ok(Response::Choice { choice })
            }
            Task::Multiple { .. } => {
                let mut choices: Vec<usize> = values(form, "c").filter_map(|v| unshuffle(order, v)).collect();
                choices.sort_unstable();
                choices.dedup();
                if choices.is_empty() {
                    return Err(Unanswered);
                }
                Ok(Response::Choices { choices })
            }
            Task::TrueFalse { .. } => match value(form, "c") {
                Some("dung") => Ok(Response::Truth { truth: true }),
                Some("sai") => Ok(Response::Truth { truth: false }),
                _ => Err(Unanswered),
            },
            Task::Ordering { steps } => {
                // For each shown step its position; the sequence lists own indices by position.
                let mut placed: Vec<(usize, usize)> = Vec::with_capacity(steps.len());
                for shown in 0..steps.len() {
                    let position =
                        value(form, &format!("o{shown}")).and_then(|v| v.parse::<usize>().ok()).ok_or(Unanswered)?;
                    placed.push((position, *order.get(shown).ok_or(Unanswered)?));
                }
                placed.sort_by_key(|(position, _)| *position);
                Ok(Response::Sequence { sequence: placed.into_iter().map(|(_, own)| own).collect() })
            }
            Task::Matching { pairs } => {
                // For each left text (own order), the own index of the right text chosen.
                let sequence = (0..pairs.len())
                    .map(|left| value(form, &format!("m{left}")).and_then(|v| unshuffle(order, v)).ok_or(Unanswered))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Response::Sequence { sequence })
            }
            Task::Vietqr { .. } => {
                let amount = value(form, "so_tien").ok_or(Unanswered)?;
                let name = value(form, "nguoi_nhan").ok_or(Unanswered)?;
                Ok(Response::Texts { texts: vec![amount.nfc().collect(), name.nfc().collect()] })
            }
            Task::Form { fields } => {
                let texts = (0..fields.len())
                    .map(|i| value(form, &format!("f{i}")).map(|v| v.nfc().collect()).ok_or(Unanswered))
                    .collect::<Result<Vec<String>, _>>()?;
                Ok(Response::Texts { texts })
            }
            Task::Password { rules } => {
                let password = values(form, "mat_khau").next().filter(|v| !v.is_empty()).ok_or(Unanswered)?;
                Ok(Response::Broken { broken: rules.broken(password) })
            }
        }
    }

    /// Whether the answer earns the item's point.
    pub fn is_right(&self, response: &Response) -> bool {
        match (&self.task, response) {
            (Task::Single { answer, .. } | Task::Sms { answer, .. }, Response::Choice { choice }) => choice == answer,
            (Task::Multiple { answers, .. }, Response::Choices { choices }) => choices == answers,
            (Task::TrueFalse { answer }, Response::Truth { truth }) => truth == answer,
            (Task::Ordering { steps }, Response::Sequence { sequence }) => {
                sequence.len() == steps.len() && sequence.iter().enumerate().all(|(i, s)| i == *s)
            }
            (Task::Matching { pairs }, Response::Sequence { sequence }) => {
                sequence.len() == pairs.len() && sequence.iter().enumerate().all(|(i, s)| i == *s)
            }
            (Task::Vietqr { qr }, Response::Texts { texts }) => match texts.as_slice() {
                [amount, name] => parse_amount(amount) == Some(qr.amount) && fold(name) == fold(&qr.name),
                _ => false,
            },
            (Task::Form { fields }, Response::Texts { texts }) => {
                fields.len() == texts.len() && fields.iter().zip(texts).all(|(f, t)| f.accepts(t))
            }
            (Task::Password { .. }, Response::Broken { broken }) => broken.is_empty(),
            _ => false,
        }
    }
}

impl FormField {
    fn accepts(&self, given: &str) -> bool {
        match self {
            FormField::Text { answer, .. } => same_words(given, answer),
            FormField::Date { answer, .. } => {
                let today = crate::domain::time::today();
                crate::domain::person::parse_birth_date(given, today)
                    .is_ok_and(|d| d.format("%Y-%m-%d").to_string() == *answer)
            }
            FormField::Choice { answer, .. } => given.parse::<usize>().is_ok_and(|g| g == *answer),
        }
    }
}

/// Equal ignoring case and runs of spaces; the letters and their marks must be right.
fn same_words(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.nfc().collect::<String>().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    norm(a) == norm(b)
}

/// Lower case, no marks, no spaces: how a bank app's receiver name is compared.
fn fold(s: &str) -> String {
    crate::domain::text::fold(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// "150.000", "150,000 đ", "150000" → 150000.
fn parse_amount(raw: &str) -> Option<u64> {
    let lowered = raw.to_lowercase();
    let trimmed = lowered.trim().trim_end_matches("vnđ").trim_end_matches("vnd").trim_end_matches('đ').trim();
    if trimmed.is_empty() || !trimmed.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ')) {
        return None;
    }
    trimmed.chars().filter(char::is_ascii_digit).collect::<String>().parse().ok()
}

impl Rules {
    /// The rules a password breaks, by code (shown to the learner, never the password).
    pub fn broken(&self, password: &str) -> Vec<String> {
        let mut broken = Vec::new();
        if password.chars().count() < self.min_length {
            broken.push("min_length".to_owned());
        }
        let checks = [
            (self.upper, "upper", password.chars().any(char::is_uppercase)),
            (self.lower, "lower", password.chars().any(char::is_lowercase)),
            (self.digit, "digit", password.chars().any(|c| c.is_ascii_digit())),
            (self.symbol, "symbol", password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace())),
        ];
        for (wanted, code, met) in checks {
            if wanted && !met {
                broken.push(code.to_owned());
            }
        }
        let folded = crate::domain::text::fold(password);
        if self.avoid.iter().any(|a| !a.trim().is_empty() && folded.contains(&crate::domain::text::fold(a))) {
            broken.push("avoid".to_owned());
        }
        broken
    }

    /// The rules in words, for the page.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!("Dài ít nhất {} ký tự", self.min_length)];
        if self.upper {
            out.push("Có ít nhất một chữ in hoa".into());
        }
        if self.lower {
            out.push("Có ít nhất một chữ thường".into());
        }
        if self.digit {
            out.push("Có ít nhất một chữ số".into());
        }
        if self.symbol {
            out.push("Có ít nhất một ký hiệu đặc biệt (ví dụ ! @ # $)".into());
        }
        if !self.avoid.is_empty() {
            out.push(format!("Không chứa: {}", self.avoid.join(", ")));
        }
        out
    }
}

pub fn rule_label(code: &str) -> &'static str {
    match code {
        "min_length" => "chưa đủ dài",
        "upper" => "thiếu chữ in hoa",
        "lower" => "thiếu chữ thường",
        "digit" => "thiếu chữ số",
        "symbol" => "thiếu ký hiệu đặc biệt",
        "avoid" => "có chứa thông tin cá nhân dễ đoán",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework() -> Framework {
        Framework::parse(crate::learning::framework::BUILTIN).unwrap()
    }

    fn parse(text: &str) -> Result<Item, Vec<String>> {
        #[derive(Deserialize)]
        struct File {
            item: Vec<RawItem>,
        }
        let file: File = toml::from_str(text).unwrap();
        file.item.into_iter().next().unwrap().check(&framework())
    }

    const HEAD: &str = "[[item]]\nid = \"t-1\"\ncompetence = \"4.2\"\nthemes = [\"an_toan_lua_dao\"]\nlevel = 2\n\
                        difficulty = 1\nquestion = \"Câu hỏi?\"\nexplain = \"Vì vậy.\"\n";

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn single_choice_is_graded_through_the_shown_order() {
        let item = parse(&format!("{HEAD}kind = \"single\"\nchoices = [\"A\", \"B\", \"C\"]\nanswer = 2\n")).unwrap();
        // Shown order: C, A, B.
        let order = [2, 0, 1];
        let right = item.read(&order, &form(&[("c", "0")])).unwrap();
        assert!(item.is_right(&right));
        let wrong = item.read(&order, &form(&[("c", "1")])).unwrap();
        assert!(!item.is_right(&wrong));
        assert_eq!(item.read(&order, &form(&[])), Err(Unanswered));
        assert_eq!(item.read(&order, &form(&[("c", "9")])), Err(Unanswered));
    }

    #[test]
    fn bad_items_name_their_problem() {
        let out = parse(&format!("{HEAD}kind = \"single\"\nchoices = [\"A\", \"A\"]\nanswer = 5\n")).unwrap_err();
        assert!(out[0].contains("choices"), "{out:?}");
        let out = parse(&format!("{HEAD}kind = \"true_false\"\nanswer = 1\n")).unwrap_err();
        assert!(out[0].contains("true"), "{out:?}");
        let out = parse(&format!("{HEAD}kind = \"single\"\nsteps = [\"a\"]\n")).unwrap_err();
        assert!(out[0].contains("steps"), "{out:?}");
        let head = HEAD.replace("4.2", "9.9").replace("t-1", "T 1");
        let out = parse(&format!("{head}kind = \"true_false\"\nanswer = true\n")).unwrap_err();
        assert!(out.iter().any(|p| p.contains("năng lực")), "{out:?}");
        assert!(out.iter().any(|p| p.starts_with("id")), "{out:?}");
    }

    #[test]
    fn ordering_matching_and_multiple() {
        let item = parse(&format!("{HEAD}kind = \"ordering\"\nsteps = [\"a\", \"b\", \"c\"]\n")).unwrap();
        // Shown: c, a, b; the learner numbers them 3, 1, 2.
        let r = item.read(&[2, 0, 1], &form(&[("o0", "3"), ("o1", "1"), ("o2", "2")])).unwrap();
        assert!(item.is_right(&r));
        let r = item.read(&[2, 0, 1], &form(&[("o0", "1"), ("o1", "2"), ("o2", "3")])).unwrap();
        assert!(!item.is_right(&r));
        let item =
            parse(&format!("{HEAD}kind = \"matching\"\npairs = [[\"a\", \"1\"], [\"b\", \"2\"], [\"c\", \"3\"]]\n"))
                .unwrap();
        // Rights shown: 3, 1, 2.
        let r = item.read(&[2, 0, 1], &form(&[("m0", "1"), ("m1", "2"), ("m2", "0")])).unwrap();
        assert!(item.is_right(&r));
        let item =
            parse(&format!("{HEAD}kind = \"multiple\"\nchoices = [\"a\", \"b\", \"c\"]\nanswers = [0, 2]\n")).unwrap();
        let r = item.read(&[0, 1, 2], &form(&[("c", "2"), ("c", "0")])).unwrap();
        assert!(item.is_right(&r));
        let r = item.read(&[0, 1, 2], &form(&[("c", "2")])).unwrap();
        assert!(!item.is_right(&r));
    }

    #[test]
    fn practical_tasks() {
        let item = parse(&format!(
            "{HEAD}kind = \"vietqr\"\nqr = {{ bank = \"Vietcombank\", bin = \"970436\", account = \"1023456789\", \
             name = \"NGUYEN THI LAN\", amount = 150000 }}\n"
        ))
        .unwrap();
        let r = item.read(&[], &form(&[("so_tien", "150.000 đ"), ("nguoi_nhan", "Nguyễn Thị Lan")])).unwrap();
        assert!(item.is_right(&r));
        let r = item.read(&[], &form(&[("so_tien", "15.000"), ("nguoi_nhan", "NGUYEN THI LAN")])).unwrap();
        assert!(!item.is_right(&r));
        let item = parse(&format!(
            "{HEAD}kind = \"form\"\nfields = [{{ label = \"Họ tên\", answer = \"Nguyễn Thị Lan\" }}, \
             {{ label = \"Ngày sinh\", kind = \"date\", answer = \"1960-03-12\" }}, \
             {{ label = \"Giới tính\", choices = [\"Nam\", \"Nữ\"], answer = 1 }}]\n"
        ))
        .unwrap();
        let r = item.read(&[], &form(&[("f0", " nguyễn  thị lan "), ("f1", "12/3/1960"), ("f2", "1")])).unwrap();
        assert!(item.is_right(&r));
        let r = item.read(&[], &form(&[("f0", "Nguyen Thi Lan"), ("f1", "12/3/1960"), ("f2", "1")])).unwrap();
        assert!(!item.is_right(&r), "marks matter in a form");
        let item = parse(&format!(
            "{HEAD}kind = \"password\"\nrules = {{ min_length = 10, upper = true, digit = true, symbol = true, \
             avoid = [\"lan\", \"1960\"] }}\n"
        ))
        .unwrap();
        let r = item.read(&[], &form(&[("mat_khau", "Lan@1960abcd")])).unwrap();
        assert_eq!(r, Response::Broken { broken: vec!["avoid".into()] });
        let r = item.read(&[], &form(&[("mat_khau", "Che-Xanh#2024Ngon")])).unwrap();
        assert!(item.is_right(&r));
        assert!(!serde_json::to_string(&r).unwrap().contains("Che-Xanh"), "the password is never kept");
    }
}
