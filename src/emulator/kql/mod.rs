//! The KQL the emulated workspace runs: the subset `warroom kql` writes
//! and the common operators around it, with the language reference's
//! semantics (`==` case-sensitive, `=~` and `contains` not, `has` on
//! whole terms, dynamic values, `summarize` per group). Anything outside
//! the subset is refused with the shape of the real service's error, so a
//! client learns what a real workspace would have said.
//!
//! Tabular operators: `where`, `extend`, `project`, `project-away`,
//! `project-rename`, `summarize … by`, `take`/`limit`, `top`, `sort`/`order`,
//! `count`, `distinct`, `mv-expand`, `mv-apply … on (…)`, `join` (inner,
//! innerunique, leftouter, rightouter, fullouter, leftanti, rightanti,
//! leftsemi, rightsemi), `union`, `print`, and `let` statements. Aggregates
//! and scalar functions: see `eval`.

pub mod eval;
pub mod lex;
pub mod parse;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

/// What a query can go wrong with, as the service names it.
#[derive(Clone, Debug, PartialEq)]
pub struct KqlError {
    /// `SyntaxError` or `SemanticError`.
    pub code: &'static str,
    pub message: String,
}

impl KqlError {
    pub fn syntax(message: impl Into<String>) -> Self {
        Self {
            code: "SyntaxError",
            message: message.into(),
        }
    }

    pub fn semantic(message: impl Into<String>) -> Self {
        Self {
            code: "SemanticError",
            message: message.into(),
        }
    }
}

impl std::fmt::Display for KqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// One KQL value. Times and timespans are in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    Str(String),
    Time(i64),
    Span(i64),
    Dyn(serde_json::Value),
}

impl Value {
    /// The Kusto type name, as result columns are described.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null | Value::Str(_) => "string",
            Value::Bool(_) => "bool",
            Value::Long(_) => "long",
            Value::Real(_) => "real",
            Value::Time(_) => "datetime",
            Value::Span(_) => "timespan",
            Value::Dyn(_) => "dynamic",
        }
    }
}

/// A table: named columns (with their types) and rows.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn index(&self) -> HashMap<String, usize> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect()
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(n, _)| n == name)
    }
}

/// The tables a query may name.
pub trait Catalog {
    fn table(&self, name: &str) -> Option<std::sync::Arc<Table>>;
}

/// Runs a query over the catalog's tables.
pub fn run(text: &str, catalog: &dyn Catalog) -> Result<Table, KqlError> {
    let query = parse::query(text)?;
    eval::run(&query, catalog)
}
