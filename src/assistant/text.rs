//! The assistant's text rules, pure: Vietnamese folding into search tokens, function words that
//! carry no topic, the key that groups questions for editors, and the stripping of personal data
//! (citizen numbers, phone numbers, e-mail addresses) before a question is stored.

use crate::domain::text::{clean, fold};

/// Words that ask but say nothing of the topic ("làm sao", "thế nào", "có … không"), folded. They
/// stay in the query (a lesson that says "làm thế nào" is not wrong) but do not count when judging
/// whether a passage answers.
const FUNCTION_WORDS: &[&str] = &[
    "a", "ai", "anh", "ba", "bao", "bi", "bo", "cac", "cach", "chi", "cho", "chu", "co", "con", "cu", "cua", "da",
    "day", "de", "den", "deu", "di", "dieu", "do", "duoc", "em", "gi", "giup", "hay", "hoi", "khi", "khong", "la",
    "lam", "len", "ma", "minh", "mot", "muon", "nao", "nay", "ne", "nen", "neu", "nhe", "nhieu", "nhu", "nhung", "o",
    "oi", "ong", "phai", "ra", "roi", "sao", "se", "the", "thi", "toi", "trong", "tu", "va", "vao", "vay", "ve", "vi",
    "voi", "vui", "xin",
];

/// The same words as written with their diacritics: in a question typed with diacritics, "trồng"
/// is a topic word even though it folds like "trong".
const FUNCTION_WORDS_MARKED: &[&str] = &[
    "a", "ai", "anh", "bao", "bà", "bạn", "bằng", "bị", "bỏ", "chi", "cho", "chứ", "chị", "con", "các", "cách", "có",
    "còn", "cũng", "của", "cứ", "cụ", "em", "gì", "giúp", "hay", "hỏi", "khi", "không", "là", "làm", "lên", "minh",
    "muốn", "mà", "mình", "một", "nhiều", "nhé", "như", "những", "nào", "này", "nè", "nên", "nếu", "phải", "ra", "rồi",
    "sao", "sẽ", "thì", "thế", "trong", "tôi", "từ", "và", "vào", "vì", "vậy", "về", "với", "xin", "à", "ông", "đi",
    "điều", "đâu", "đây", "đã", "đó", "được", "đến", "để", "đều", "ơi", "ở",
];

/// Whether a word as written (lower case, NFC) with its folded form asks rather than tells; a word
/// with diacritics is judged as written.
pub fn is_function(written: &str, folded: &str) -> bool {
    if written == folded { is_function_word(folded) } else { FUNCTION_WORDS_MARKED.contains(&written) }
}

/// Folded words (letters and digits), in order.
pub fn folded_words(text: &str) -> Vec<String> {
    fold(&clean(text)).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

pub fn is_function_word(folded: &str) -> bool {
    FUNCTION_WORDS.binary_search(&folded).is_ok() || folded.len() < 2 && !folded.chars().all(|c| c.is_ascii_digit())
}

/// The words that say what a question is about.
pub fn content_words(text: &str) -> Vec<String> {
    folded_words(text).into_iter().filter(|w| !is_function_word(w)).collect()
}

/// Questions with the same key are the same question to an editor: their content words, folded,
/// without repeats, sorted ("Cài VNeID thế nào?" and "cai vneid the nao" group together).
pub fn group_key(text: &str) -> String {
    let mut words = content_words(text);
    words.sort();
    words.dedup();
    words.join(" ")
}

/// Whether two folded words are the same or one edit apart (an insertion, a deletion, a change or
/// two letters swapped); only words of five letters or more get that tolerance.
pub fn near(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if a.chars().count() < 5 || b.chars().count() < 5 {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (x, y) if x == y => ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..]),
        (x, y) if x > y => ra[1..] == *rb,
        _ => *ra == rb[1..],
    }
}

/// What is stored of a question: NFC, at most 300 characters, with every run of digits that could
/// be a citizen number (12 digits) or a phone number (9 to 11 digits, with or without +84, spaces,
/// dots or dashes) and every e-mail address replaced by a mark. A question is kept to improve the
/// content, never to find who asked it.
pub fn strip_personal(question: &str) -> String {
    let text = clean(question);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number, possibly broken up by single separators.
            let mut j = i + usize::from(chars[i] == '+');
            let mut digits = 0;
            let mut end = j;
            while j < chars.len() {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                    j += 1;
                    end = j;
                } else if matches!(chars[j], ' ' | '.' | '-') && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
                    j += 1;
                } else {
                    break;
                }
            }
            if digits >= 9 {
                out.push_str("[số đã ẩn]");
            } else {
                out.extend(&chars[i..end]);
            }
            i = end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    let masked: Vec<String> = out
        .split(' ')
        .map(|w| {
            let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
            if bare.contains('@') && bare.contains('.') { w.replace(bare, "[thư đã ẩn]") } else { w.to_owned() }
        })
        .collect();
    masked.join(" ").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_are_sorted_for_the_binary_search() {
        let mut sorted = FUNCTION_WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), FUNCTION_WORDS.len());
    }

    #[test]
    fn personal_numbers_are_stripped_and_short_numbers_kept() {
        let s = strip_personal("CCCD 025090123456, gọi 0912 345 678 hoặc +84912345678, thư an.nguyen@gmail.com");
        assert!(!s.contains("025090123456") && !s.contains("345") && !s.contains("84912"), "{s}");
        assert!(!s.contains("gmail"), "{s}");
        assert_eq!(s.matches("[số đã ẩn]").count(), 3, "{s}");
        assert_eq!(strip_personal("VNeID mức 2 có 6 số passcode năm 2024"), "VNeID mức 2 có 6 số passcode năm 2024");
    }

    #[test]
    fn near_words_are_one_edit_apart_and_long_enough() {
        assert!(near("vneid", "vnied"));
        assert!(near("khoan", "khoann"));
        assert!(!near("thanh", "thah"));
        assert!(near("dinh", "dinh"));
        assert!(!near("dinh", "dnh"));
        assert!(near("internet", "intrnet"));
        assert!(!near("internet", "intranet2"));
    }

    #[test]
    fn questions_group_by_their_content_words() {
        assert_eq!(group_key("Cài VNeID thế nào?"), group_key("cai vneid the nao"));
        assert_eq!(group_key("cai vneid the nao"), "cai vneid");
    }
}
