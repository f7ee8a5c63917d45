//! Text as it arrives from files and forms: normalised to NFC and trimmed once.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// NFC-normalises and trims. Files from other systems often carry decomposed Vietnamese letters.
pub fn clean(raw: &str) -> String {
    cleaned(raw).into_owned()
}

/// `clean`, borrowing `raw` when it is already clean (nearly always): an import cleans tens of
/// millions of cells, and a copy of each was a tenth of its work.
pub fn cleaned(raw: &str) -> Cow<'_, str> {
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    // Most cells (numbers, dates, codes) are ASCII, which is always NFC.
    if trimmed.is_ascii()
        || unicode_normalization::is_nfc_quick(trimmed.chars()) == unicode_normalization::IsNormalized::Yes
    {
        Cow::Borrowed(trimmed)
    } else {
        Cow::Owned(trimmed.nfc().collect::<String>().trim().to_owned())
    }
}

/// The key a name is matched by: NFC, lower case, inner runs of spaces collapsed.
/// Diacritics are kept: "Thôn Đông" and "Thôn Dong" are different villages.
pub fn match_key(name: &str) -> String {
    let name = cleaned(name);
    let mut key = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !key.is_empty() {
            key.push(' ');
        }
        key.extend(word.chars().flat_map(char::to_lowercase));
    }
    key
}

/// Folds Vietnamese text for search and slugs: lower case, diacritics removed, đ → d.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The key a name is searched by: `fold`ed, inner runs of spaces collapsed. "NGUYỄN  Văn" and
/// "nguyen van" have the same key; "ĐỖ" and "đỗ" and "do" too.
pub fn search_key(text: &str) -> String {
    let folded = fold(text);
    let mut key = String::with_capacity(folded.len());
    for word in folded.split_whitespace() {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(word);
    }
    key
}

/// `search_key` of a query, with LIKE's wildcards (`%`, `_`) and its escape character (`\`)
/// escaped: for `LIKE '%' || $n || '%' ESCAPE '\'`.
pub fn like_contains(query: &str) -> String {
    let key = search_key(query);
    let mut escaped = String::with_capacity(key.len());
    for c in key.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_composes_decomposed_letters() {
        let decomposed = "Nguye\u{302}\u{303}n Thi\u{323}";
        assert_eq!(clean(&format!("  {decomposed} ")), "Nguyễn Thị");
    }

    #[test]
    fn match_key_ignores_case_and_spacing_but_not_accents() {
        assert_eq!(match_key("THÔN  Đông"), match_key("thôn đông"));
        assert_ne!(match_key("Thôn Đông"), match_key("Thon Dong"));
    }

    #[test]
    fn search_keys_ignore_case_marks_and_spacing_and_escape_wildcards() {
        assert_eq!(search_key("  NGUYỄN   Văn Đỗ "), "nguyen van do");
        assert_eq!(search_key("Nguye\u{302}\u{303}n"), "nguyen");
        assert_eq!(like_contains("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn fold_removes_all_vietnamese_marks() {
        assert_eq!(fold("Cài đặt VNeID Ưu Ợ ậ"), "cai dat vneid uu o a");
    }
}
