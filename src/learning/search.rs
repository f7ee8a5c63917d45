//! Search over published lessons: an in-memory tantivy index, rebuilt with the catalog. Text is NFC
//! and folded (lower case, no diacritics, đ → d), so "cai vneid" finds "Cài đặt VNeID".

use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, TantivyDocument, doc};

use crate::domain::text::clean;

const TOKENIZER: &str = "vi_fold";

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    slug: Field,
    title: Field,
    summary: Field,
    body: Field,
}

/// One lesson's searchable text.
pub struct Doc<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
}

impl SearchIndex {
    pub fn build<'a>(docs: impl Iterator<Item = Doc<'a>>) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let folded = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let slug = schema.add_text_field("slug", STRING | STORED);
        let title = schema.add_text_field("title", folded.clone());
        let summary = schema.add_text_field("summary", folded.clone());
        let body = schema.add_text_field("body", folded);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(TOKENIZER, analyzer());
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        for d in docs {
            writer.add_document(doc!(
                slug => d.slug,
                title => clean(d.title),
                summary => clean(d.summary),
                body => clean(d.body),
            ))?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Self { index, reader, slug, title, summary, body })
    }

    /// Slugs of the best matches, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<String> {
        let query = clean(query);
        if query.is_empty() {
            return Vec::new();
        }
        let mut parser = QueryParser::for_index(&self.index, vec![self.title, self.summary, self.body]);
        parser.set_field_boost(self.title, 3.0);
        parser.set_field_boost(self.summary, 1.5);
        // Words only: whatever the person typed is never query syntax.
        let words: String = query.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
        let (parsed, _) = parser.parse_query_lenient(&words);
        let searcher = self.reader.searcher();
        let Ok(hits) = searcher.search(&parsed, &TopDocs::with_limit(limit).order_by_score()) else {
            return Vec::new();
        };
        hits.into_iter()
            .filter_map(|(_, address)| {
                let doc: TantivyDocument = searcher.doc(address).ok()?;
                doc.get_first(self.slug).and_then(|v| v.as_str()).map(str::to_owned)
            })
            .collect()
    }
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_queries_find_accented_lessons() {
        let index = SearchIndex::build(
            [
                Doc {
                    slug: "cai-dat-vneid",
                    title: "Cài đặt VNeID",
                    summary: "Danh tính điện tử",
                    body: "Tải ứng dụng.",
                },
                Doc {
                    slug: "vietqr",
                    title: "Thanh toán VietQR",
                    summary: "Quét mã",
                    body: "Kiểm tra tên người nhận.",
                },
            ]
            .into_iter(),
        )
        .unwrap();
        assert_eq!(index.search("cai vneid", 5)[0], "cai-dat-vneid");
        assert_eq!(index.search("CÀI ĐẶT", 5)[0], "cai-dat-vneid");
        assert_eq!(index.search("nguoi nhan", 5), vec!["vietqr"]);
        assert!(index.search("\"(", 5).is_empty());
    }
}
