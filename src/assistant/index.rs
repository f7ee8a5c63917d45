//! The assistant's full-text index: one document per passage (a lesson section under its `##`
//! heading, or an FAQ entry), each text twice: as written (NFC, lower case) and folded for
//! Vietnamese (diacritics removed, đ → d). A question matches the folded copy whether or not it
//! carries diacritics, the copy as written rewards the right diacritics, fuzzy terms forgive one
//! typo in longer words (below exact matches), adjacent words reward phrases, and the synonym list
//! adds the everyday words' counterparts (below the words typed).

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

use super::synonyms::{Expansion, Synonyms};
use super::text::{folded_words, is_function, near};
use crate::domain::text::clean;

/// Where a passage comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    Lesson { slug: String },
    Faq { id: i64 },
}

#[derive(Clone, Debug)]
pub struct Passage {
    pub origin: Origin,
    /// The lesson's title, or the FAQ question.
    pub title: String,
    /// The section's heading (empty for an FAQ entry and a lesson's opening).
    pub heading: String,
    /// The section's text, or the FAQ answer: plain text, one line per paragraph or list item.
    pub text: String,
    /// Text about the whole lesson (summary, every section, check questions and explanations): it
    /// counts for every section, less than the section's own text.
    pub context: String,
    pub competences: Vec<String>,
    pub themes: Vec<String>,
}

/// A passage that answers, with how well.
#[derive(Clone, Debug)]
pub struct Hit {
    pub passage: usize,
    pub score: f32,
    /// The share of the question's topic words the passage contains (typos and synonyms count).
    pub coverage: f32,
}

struct Fields {
    id: Field,
    title: [Field; 2],
    head: [Field; 2],
    body: [Field; 2],
    context: [Field; 2],
}

pub struct AssistantIndex {
    reader: IndexReader,
    fields: Fields,
    pub passages: Vec<Passage>,
    words: Vec<Words>,
    /// Inverse document frequency of each folded word over the passages.
    idf: HashMap<String, f32>,
    /// The weight of a word no passage holds.
    unknown_idf: f32,
    synonyms: Synonyms,
}

/// A passage's words, kept to judge how much of a question it holds.
struct Words {
    written: HashSet<String>,
    folded: Vec<String>,
    folded_set: HashSet<String>,
    pairs: HashSet<(String, String)>,
    context: HashSet<String>,
    context_pairs: HashSet<(String, String)>,
}

fn pairs(words: &[String]) -> HashSet<(String, String)> {
    words.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect()
}

impl Words {
    fn of(p: &Passage) -> Self {
        let section = format!("{} {} {}", p.title, p.heading, p.text);
        let folded = folded_words(&section);
        let context = folded_words(&p.context);
        Self {
            written: lower_words(&clean(&section)).into_iter().collect(),
            folded_set: folded.iter().cloned().collect(),
            pairs: pairs(&folded),
            folded,
            context_pairs: pairs(&context),
            context: context.into_iter().collect(),
        }
    }
}

const ORIGINAL: &str = "vi_original";
const FOLDED: &str = "vi_folded";
/// Weights of the parts of a passage, and of the kinds of evidence.
const TITLE: f32 = 1.5;
const HEAD: f32 = 2.0;
const BODY: f32 = 1.0;
const CONTEXT: f32 = 0.6;
const AS_WRITTEN: f32 = 0.5;
const FUNCTION: f32 = 0.25;
const FUZZY: f32 = 0.35;
const PHRASE: f32 = 0.8;
const SYNONYM: f32 = 0.45;
/// In the re-ranking, a passage's score counts for this much even when it holds none of the question.
const RERANK_FLOOR: f32 = 0.3;

impl AssistantIndex {
    pub fn build(passages: Vec<Passage>, synonyms: Synonyms) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let options = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
        };
        let mut pair = |name: &str| {
            [
                schema.add_text_field(&format!("{name}_o"), options(ORIGINAL)),
                schema.add_text_field(&format!("{name}_f"), options(FOLDED)),
            ]
        };
        let (title, head, body, context) = (pair("title"), pair("head"), pair("body"), pair("context"));
        let id = schema.add_u64_field("id", STORED);
        let fields = Fields { id, title, head, body, context };
        let index = Index::create_in_ram(schema.build());
        index
            .tokenizers()
            .register(ORIGINAL, TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).build());
        index.tokenizers().register(
            FOLDED,
            TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build(),
        );
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000)?;
        for (n, p) in passages.iter().enumerate() {
            // The heading tells the sections of a lesson apart; the lesson's title is the same for
            // all of them, so it counts with the lesson's other text (an FAQ's question is its heading).
            let head_text = clean(if p.heading.is_empty() && matches!(p.origin, Origin::Faq { .. }) {
                &p.title
            } else {
                &p.heading
            });
            let body_text = clean(&p.text);
            let title_text = clean(&p.title);
            let context_text = clean(&p.context);
            writer.add_document(doc!(
                fields.id => n as u64,
                fields.title[0] => title_text.as_str(), fields.title[1] => title_text.as_str(),
                fields.head[0] => head_text.as_str(), fields.head[1] => head_text.as_str(),
                fields.body[0] => body_text.as_str(), fields.body[1] => body_text.as_str(),
                fields.context[0] => context_text.as_str(), fields.context[1] => context_text.as_str(),
            ))?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let words: Vec<Words> = passages.iter().map(Words::of).collect();
        let mut df: HashMap<String, f32> = HashMap::new();
        for w in &words {
            for word in w.folded_set.union(&w.context) {
                *df.entry(word.clone()).or_default() += 1.0;
            }
        }
        let n = passages.len() as f32;
        let idf = df.into_iter().map(|(w, d)| (w, (1.0 + n / d).ln())).collect();
        let unknown_idf = (1.0 + n.max(1.0)).ln();
        Ok(Self { reader, fields, passages, words, idf, unknown_idf, synonyms })
    }

    /// The best passages for a question, best first, at most one per lesson or FAQ entry.
    pub fn search(&self, question: &str, limit: usize) -> Vec<Hit> {
        let question = clean(question);
        let written: Vec<String> = lower_words(&question);
        let folded = folded_words(&question);
        // Whether each word says what the question is about: not a function word, unless it was
        // typed in capitals as an abbreviation ("AI", "OTP"), which no function word is.
        let topic: Vec<bool> = question
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .zip(written.iter().zip(&folded))
            .map(|(raw, (w, fw))| {
                !is_function(w, fw) || (raw.chars().count() >= 2 && raw.chars().all(|c| c.is_uppercase()))
            })
            .collect();
        if folded.is_empty() || written.len() != folded.len() {
            return Vec::new();
        }
        // A synonym is brought only by words that say what the question is about: "ai" (who) does
        // not bring "trí tuệ nhân tạo", "AI" does.
        let expansions: Vec<Expansion> =
            self.synonyms.expand(&folded).into_iter().filter(|x| (x.span.0..x.span.1).any(|i| topic[i])).collect();
        let query = self.query(&written, &folded, &topic, &expansions);
        let searcher = self.reader.searcher();
        let Ok(found) = searcher.search(&query, &TopDocs::with_limit(limit * 8 + 20).order_by_score()) else {
            return Vec::new();
        };
        // Re-ranked by how much of the question each passage holds: BM25 alone lets one word that
        // folds like another ("lịch sự", "lịch sử") win over a passage that holds the whole question.
        let mut hits: Vec<Hit> = found
            .into_iter()
            .filter_map(|(score, address)| {
                let doc = searcher.doc::<TantivyDocument>(address).ok()?;
                let n = doc.get_first(self.fields.id).and_then(|v| v.as_u64())? as usize;
                let coverage = self.coverage(self.words.get(n)?, &written, &folded, &topic, &expansions);
                Some(Hit { passage: n, score: score * (RERANK_FLOOR + coverage), coverage })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut seen = HashSet::new();
        hits.retain(|h| seen.insert(self.passages[h.passage].origin.clone()));
        hits.truncate(limit);
        hits
    }

    fn query(&self, written: &[String], folded: &[String], topic: &[bool], expansions: &[Expansion]) -> BooleanQuery {
        let f = &self.fields;
        let weighted = [(f.title, TITLE), (f.head, HEAD), (f.body, BODY), (f.context, CONTEXT)];
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut push = |query: Box<dyn Query>, boost: f32| {
            clauses.push((Occur::Should, Box::new(BoostQuery::new(query, boost))));
        };
        for ((w, fw), is_topic) in written.iter().zip(folded).zip(topic) {
            let weight = if *is_topic { 1.0 } else { FUNCTION };
            for (pair, part) in weighted {
                push(Box::new(TermQuery::new(term(pair[1], fw), IndexRecordOption::WithFreqs)), part * weight);
                if w != fw {
                    push(
                        Box::new(TermQuery::new(term(pair[0], w), IndexRecordOption::WithFreqs)),
                        part * weight * AS_WRITTEN,
                    );
                }
                if weight == 1.0 && fw.chars().count() >= 5 {
                    push(Box::new(FuzzyTermQuery::new(term(pair[1], fw), 1, true)), part * FUZZY);
                }
            }
        }
        for (pair, topics) in folded.windows(2).zip(topic.windows(2)) {
            if !topics.iter().any(|t| *t) {
                continue;
            }
            for (fields, part) in weighted {
                let terms = pair.iter().map(|w| term(fields[1], w)).collect();
                push(Box::new(PhraseQuery::new(terms)), part * PHRASE);
            }
        }
        for Expansion { phrase, .. } in expansions {
            for (fields, part) in weighted {
                let query: Box<dyn Query> = if phrase.len() == 1 {
                    Box::new(TermQuery::new(term(fields[1], &phrase[0]), IndexRecordOption::WithFreqs))
                } else {
                    Box::new(PhraseQuery::new(phrase.iter().map(|w| term(fields[1], w)).collect()))
                };
                push(query, part * SYNONYM);
            }
        }
        BooleanQuery::new(clauses)
    }
}

fn term(field: Field, word: &str) -> Term {
    Term::from_field_text(field, word)
}

/// Lower-case words as written (NFC), split where `folded_words` splits.
fn lower_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

impl AssistantIndex {
    /// How much of the question's topic the passage holds, each topic word weighted by its rarity
    /// (a word no passage holds weighs most, so a question on another subject scores low). A word
    /// counts 1 when the section holds it as written, a little less when only folded (another word
    /// may fold the same), through a synonym whose phrase the section holds, or with one typo; half
    /// as much when only the lesson's summary or checks hold it.
    fn coverage(
        &self,
        words: &Words,
        written: &[String],
        folded: &[String],
        topic: &[bool],
        expansions: &[Expansion],
    ) -> f32 {
        let by_synonym: Vec<(usize, usize)> = expansions
            .iter()
            .filter(|x| words.folded.windows(x.phrase.len()).any(|w| w == x.phrase.as_slice()))
            .map(|x| x.span)
            .collect();
        // A question typed with diacritics is taken at its word: a passage that holds its words only
        // folded ("lúa" for "lừa") holds other words.
        let marked = written.iter().zip(folded).any(|(w, fw)| w != fw);
        let mut total = 0.0;
        let mut found = 0.0;
        for (i, (w, fw)) in written.iter().zip(folded).enumerate() {
            if !topic[i] {
                continue;
            }
            let weight = self.idf.get(fw.as_str()).copied().unwrap_or(self.unknown_idf);
            total += weight;
            let credit = if words.written.contains(w) {
                1.0
            } else if words.folded_set.contains(fw.as_str()) {
                if marked { 0.35 } else { 1.0 }
            } else if by_synonym.iter().any(|(s, e)| (*s..*e).contains(&i)) {
                0.8
            } else if fw.len() >= 5 && words.folded_set.iter().any(|x| near(fw, x)) {
                0.7
            } else if words.context.contains(fw.as_str()) {
                0.5
            } else {
                0.0
            };
            found += weight * credit;
        }
        let words_share = if total == 0.0 { 0.0 } else { found / total };
        // Vietnamese words are mostly two syllables: adjacent topic syllables of the question found
        // side by side in the passage tell "thời tiết" from "thời gian" and "tiết kiệm".
        let asked: Vec<(usize, &String)> = folded.iter().enumerate().filter(|(i, _)| topic[*i]).collect();
        let question_pairs: Vec<(String, String)> =
            asked.windows(2).filter(|x| x[1].0 == x[0].0 + 1).map(|x| (x[0].1.clone(), x[1].1.clone())).collect();
        if question_pairs.len() < 2 {
            return words_share;
        }
        let held: f32 = question_pairs
            .iter()
            .map(|p| {
                if words.pairs.contains(p) {
                    1.0
                } else if words.context_pairs.contains(p) {
                    0.5
                } else {
                    0.0
                }
            })
            .sum();
        (words_share + held / question_pairs.len() as f32) / 2.0
    }
}
