//! my data
