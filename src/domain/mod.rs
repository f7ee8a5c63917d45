//! Pure types and rules: no I/O. Raw input is parsed into these once, at the edge.

pub mod cccd;
pub mod disclosure;
pub mod grading;
pub mod indicators;
pub mod person;
pub mod ranking;
pub mod report;
pub mod role;
pub mod tasks;
pub mod text;
pub mod time;
pub mod unit;

/// A rule broken by some input, told in Vietnamese first and in English.
pub trait Bilingual {
    fn vi(&self) -> String;
    fn en(&self) -> String;
}
