//! Tokens to a query: `let` statements, then a tabular expression (a
//! table, `union`, or a parenthesised query) piped through operators.

use super::KqlError;
use super::lex::Tok;

#[derive(Clone, Debug)]
pub enum Expr {
    Lit(super::Value),
    /// A column or a `let` name.
    Name(String),
    /// `a.b`, `a["b"]`.
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    /// `*` as an argument (`count(*)`, `arg_max(t, *)`).
    Star,
    Binary(String, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    /// `x in (…)`, `x !in~ (…)`: a list or a tabular expression.
    In {
        op: String,
        value: Box<Expr>,
        list: InList,
    },
    Between {
        negated: bool,
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
}

#[derive(Clone, Debug)]
pub enum InList {
    Values(Vec<Expr>),
    Table(Box<Tabular>),
}

/// `name = expr`, or an expression whose column name is derived.
#[derive(Clone, Debug)]
pub struct Assign {
    pub name: Option<String>,
    pub expr: Expr,
}

#[derive(Clone, Debug)]
pub enum Source {
    Table(String),
    Union(Vec<Tabular>),
    Nested(Box<Tabular>),
    /// `print x = 1`.
    Print(Vec<Assign>),
}

#[derive(Clone, Debug)]
pub enum JoinKey {
    Same(String),
    Pair(String, String),
}

#[derive(Clone, Debug)]
pub enum Op {
    Where(Expr),
    Extend(Vec<Assign>),
    Project(Vec<Assign>),
    ProjectAway(Vec<String>),
    ProjectRename(Vec<(String, String)>),
    Summarize {
        aggs: Vec<Assign>,
        by: Vec<Assign>,
    },
    Take(Expr),
    Top {
        n: Expr,
        by: Expr,
        desc: bool,
    },
    Sort(Vec<(Expr, bool)>),
    Count,
    Distinct(Vec<Assign>),
    MvExpand {
        name: Option<String>,
        expr: Expr,
        limit: Option<i64>,
    },
    MvApply {
        name: String,
        expr: Expr,
        body: Box<Tabular>,
    },
    Join {
        kind: String,
        right: Box<Tabular>,
        on: Vec<JoinKey>,
    },
    Union(Vec<Tabular>),
}

#[derive(Clone, Debug)]
pub struct Tabular {
    pub source: Source,
    pub ops: Vec<Op>,
}

/// A whole query: `let` statements and the result.
#[derive(Clone, Debug)]
pub struct Query {
    pub lets: Vec<(String, Let)>,
    pub body: Tabular,
}

#[derive(Clone, Debug)]
pub enum Let {
    Scalar(Expr),
    Table(Tabular),
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    /// Names bound by `let` to tables (a bare name may start a pipeline).
    tables: Vec<String>,
}

pub fn query(text: &str) -> Result<Query, KqlError> {
    let toks = super::lex::tokens(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        tables: Vec::new(),
    };
    let mut lets = Vec::new();
    let mut body = None;
    while p.peek().is_some() {
        if p.eat_sym(";") {
            continue;
        }
        if p.is_name("let") {
            p.at += 1;
            let name = p.name()?;
            p.expect_sym("=")?;
            let value = if p.starts_tabular() {
                let t = p.tabular()?;
                p.tables.push(name.clone());
                Let::Table(t)
            } else {
                Let::Scalar(p.expr()?)
            };
            lets.push((name, value));
            continue;
        }
        if body.is_some() {
            return Err(p.error("a query has one tabular expression; expected ';'"));
        }
        body = Some(p.tabular()?);
    }
    let body = body.ok_or_else(|| KqlError::syntax("the query has no tabular expression"))?;
    Ok(Query { lets, body })
}

/// Operators that take a list of named expressions.
const OPERATORS: &[&str] = &[
    "where",
    "filter",
    "extend",
    "project",
    "project-away",
    "project-rename",
    "summarize",
    "take",
    "limit",
    "top",
    "sort",
    "order",
    "count",
    "distinct",
    "mv-expand",
    "mv-apply",
    "join",
    "union",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(t, _)| t)
    }

    fn error(&self, what: &str) -> KqlError {
        let at = self.toks.get(self.at).map_or(0, |(_, p)| *p);
        KqlError::syntax(format!("{what} (at character {at})"))
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n.eq_ignore_ascii_case(name))
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym)
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let yes = self.is_sym(sym);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn eat_name(&mut self, name: &str) -> bool {
        let yes = self.is_name(name);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), KqlError> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{sym}'")))
        }
    }

    fn name(&mut self) -> Result<String, KqlError> {
        match self.peek() {
            Some(Tok::Name(n)) => {
                let n = n.clone();
                self.at += 1;
                Ok(n)
            }
            // `['a name']`
            Some(Tok::Sym("[")) => {
                self.at += 1;
                let Some(Tok::Str(s)) = self.peek().cloned() else {
                    return Err(self.error("expected a quoted name"));
                };
                self.at += 1;
                self.expect_sym("]")?;
                Ok(s)
            }
            _ => Err(self.error("expected a name")),
        }
    }

    fn starts_tabular(&self) -> bool {
        match self.peek() {
            Some(Tok::Name(n)) => {
                let next_is_pipe = matches!(self.toks.get(self.at + 1), Some((Tok::Sym("|"), _)));
                n.eq_ignore_ascii_case("union")
                    || n.eq_ignore_ascii_case("print")
                    || n.chars().next().is_some_and(char::is_uppercase)
                        && !matches!(self.toks.get(self.at + 1), Some((Tok::Sym("("), _)))
                    || next_is_pipe
                    || self.tables.contains(n)
            }
            Some(Tok::Sym("(")) => {
                // `(T | …)`: a nested query, not a parenthesised scalar.
                matches!(self.toks.get(self.at + 1), Some((Tok::Name(n), _))
                    if n.chars().next().is_some_and(char::is_uppercase) || self.tables.contains(n))
            }
            _ => false,
        }
    }

    /// In `x in (…)`: a table only when named by `let` or piped on.
    fn starts_table_in_list(&self) -> bool {
        match self.peek() {
            Some(Tok::Name(n)) => {
                self.tables.contains(n)
                    || matches!(self.toks.get(self.at + 1), Some((Tok::Sym("|"), _)))
            }
            _ => false,
        }
    }

    fn tabular(&mut self) -> Result<Tabular, KqlError> {
        let source = if self.eat_name("union") {
            Source::Union(self.union_parts()?)
        } else if self.eat_name("print") {
            Source::Print(self.assigns()?)
        } else if self.eat_sym("(") {
            let inner = self.tabular()?;
            self.expect_sym(")")?;
            Source::Nested(Box::new(inner))
        } else {
            Source::Table(self.name()?)
        };
        let mut ops = Vec::new();
        while self.eat_sym("|") {
            ops.push(self.operator()?);
        }
        Ok(Tabular { source, ops })
    }

    fn union_parts(&mut self) -> Result<Vec<Tabular>, KqlError> {
        // `kind=outer`, `withsource=…` are accepted and ignored.
        while self.is_name("kind") || self.is_name("isfuzzy") {
            self.at += 1;
            self.expect_sym("=")?;
            self.at += 1;
        }
        let mut parts = Vec::new();
        loop {
            if self.eat_sym("(") {
                let t = self.tabular()?;
                self.expect_sym(")")?;
                parts.push(t);
            } else {
                parts.push(Tabular {
                    source: Source::Table(self.name()?),
                    ops: Vec::new(),
                });
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(parts)
    }

    fn operator(&mut self) -> Result<Op, KqlError> {
        let word = self.name()?.to_lowercase();
        Ok(match word.as_str() {
            "where" | "filter" => Op::Where(self.expr()?),
            "extend" => Op::Extend(self.assigns()?),
            "project" => Op::Project(self.assigns()?),
            "project-away" => Op::ProjectAway(self.names()?),
            "project-rename" => {
                let mut pairs = Vec::new();
                loop {
                    let new = self.name()?;
                    self.expect_sym("=")?;
                    pairs.push((new, self.name()?));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                Op::ProjectRename(pairs)
            }
            "summarize" => {
                let aggs = if self.is_name("by") {
                    Vec::new()
                } else {
                    self.assigns()?
                };
                let by = if self.eat_name("by") {
                    self.assigns()?
                } else {
                    Vec::new()
                };
                Op::Summarize { aggs, by }
            }
            "take" | "limit" => Op::Take(self.expr()?),
            "top" => {
                let n = self.additive()?;
                if !self.eat_name("by") {
                    return Err(self.error("expected 'by' after top N"));
                }
                let by = self.expr()?;
                let desc = !self.eat_name("asc");
                self.eat_name("desc");
                Op::Top { n, by, desc }
            }
            "sort" | "order" => {
                if !self.eat_name("by") {
                    return Err(self.error("expected 'by'"));
                }
                let mut keys = Vec::new();
                loop {
                    let e = self.expr()?;
                    let desc = !self.eat_name("asc");
                    self.eat_name("desc");
                    keys.push((e, desc));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                Op::Sort(keys)
            }
            "count" => Op::Count,
            "distinct" => Op::Distinct(self.assigns()?),
            "mv-expand" => {
                let assign = self.assign()?;
                let name = assign.name.clone();
                let limit = if self.eat_name("limit") {
                    Some(self.integer()?)
                } else {
                    None
                };
                Op::MvExpand {
                    name,
                    expr: assign.expr,
                    limit,
                }
            }
            "mv-apply" => {
                let name = self.name()?;
                self.expect_sym("=")?;
                let expr = self.expr()?;
                if self.eat_name("to") {
                    // `to typeof(T)`: accepted.
                    self.expr()?;
                }
                if !self.eat_name("on") {
                    return Err(self.error("expected 'on' in mv-apply"));
                }
                self.expect_sym("(")?;
                // The subquery reads the expanded rows: a pipeline with no
                // source of its own.
                let mut ops = Vec::new();
                loop {
                    ops.push(self.operator()?);
                    if !self.eat_sym("|") {
                        break;
                    }
                }
                self.expect_sym(")")?;
                Op::MvApply {
                    name,
                    expr,
                    body: Box::new(Tabular {
                        source: Source::Table(String::new()),
                        ops,
                    }),
                }
            }
            "join" => {
                let mut kind = "innerunique".to_owned();
                while self.is_name("kind") || self.is_name("hint.strategy") {
                    let key = self.name()?;
                    self.expect_sym("=")?;
                    let value = self.name()?;
                    if key.eq_ignore_ascii_case("kind") {
                        kind = value.to_lowercase();
                    }
                }
                self.expect_sym("(")?;
                let right = self.tabular()?;
                self.expect_sym(")")?;
                if !self.eat_name("on") {
                    return Err(self.error("expected 'on' in join"));
                }
                let mut on = Vec::new();
                loop {
                    if self.eat_sym("$") {
                        let side = self.name()?;
                        self.expect_sym(".")?;
                        let left = self.name()?;
                        self.expect_sym("==")?;
                        self.expect_sym("$")?;
                        let _ = self.name()?;
                        self.expect_sym(".")?;
                        let right = self.name()?;
                        if side.eq_ignore_ascii_case("left") {
                            on.push(JoinKey::Pair(left, right));
                        } else {
                            on.push(JoinKey::Pair(right, left));
                        }
                    } else {
                        on.push(JoinKey::Same(self.name()?));
                    }
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                Op::Join {
                    kind,
                    right: Box::new(right),
                    on,
                }
            }
            "union" => Op::Union(self.union_parts()?),
            other => {
                return Err(KqlError::syntax(format!(
                    "the emulator's KQL has no '{other}' operator (it runs: {})",
                    OPERATORS.join(", ")
                )));
            }
        })
    }

    fn integer(&mut self) -> Result<i64, KqlError> {
        match self.peek() {
            Some(Tok::Long(n)) => {
                let n = *n;
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.error("expected a number")),
        }
    }

    fn names(&mut self) -> Result<Vec<String>, KqlError> {
        let mut out = vec![self.name()?];
        while self.eat_sym(",") {
            out.push(self.name()?);
        }
        Ok(out)
    }

    fn assigns(&mut self) -> Result<Vec<Assign>, KqlError> {
        let mut out = vec![self.assign()?];
        while self.eat_sym(",") {
            out.push(self.assign()?);
        }
        Ok(out)
    }

    fn assign(&mut self) -> Result<Assign, KqlError> {
        if let Some(Tok::Name(n)) = self.peek().cloned()
            && matches!(self.toks.get(self.at + 1), Some((Tok::Sym("="), _)))
        {
            self.at += 2;
            return Ok(Assign {
                name: Some(n),
                expr: self.expr()?,
            });
        }
        Ok(Assign {
            name: None,
            expr: self.expr()?,
        })
    }

    pub fn expr(&mut self) -> Result<Expr, KqlError> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr, KqlError> {
        let mut left = self.and()?;
        while self.eat_name("or") {
            let right = self.and()?;
            left = Expr::Binary("or".into(), Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, KqlError> {
        let mut left = self.comparison()?;
        while self.eat_name("and") {
            let right = self.comparison()?;
            left = Expr::Binary("and".into(), Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, KqlError> {
        let left = self.additive()?;
        let op = match self.peek() {
            Some(Tok::Sym(s))
                if ["==", "!=", "<>", "<", "<=", ">", ">=", "=~", "!~"].contains(s) =>
            {
                s.to_string()
            }
            Some(Tok::Name(n)) if is_word_operator(n) => n.to_lowercase(),
            _ => return Ok(left),
        };
        self.at += 1;
        match op.as_str() {
            "in" | "!in" | "in~" | "!in~" | "has_any" | "has_all" => {
                self.expect_sym("(")?;
                let list = if self.starts_table_in_list() {
                    InList::Table(Box::new(self.tabular()?))
                } else {
                    let mut items = Vec::new();
                    if !self.is_sym(")") {
                        loop {
                            items.push(self.expr()?);
                            if !self.eat_sym(",") {
                                break;
                            }
                        }
                    }
                    InList::Values(items)
                };
                self.expect_sym(")")?;
                Ok(Expr::In {
                    op,
                    value: Box::new(left),
                    list,
                })
            }
            "between" | "!between" => {
                self.expect_sym("(")?;
                let low = self.additive()?;
                self.expect_sym("..")?;
                let high = self.additive()?;
                self.expect_sym(")")?;
                Ok(Expr::Between {
                    negated: op.starts_with('!'),
                    value: Box::new(left),
                    low: Box::new(low),
                    high: Box::new(high),
                })
            }
            _ => {
                let right = self.additive()?;
                Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
            }
        }
    }

    fn additive(&mut self) -> Result<Expr, KqlError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                "+"
            } else if self.eat_sym("-") {
                "-"
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Binary(op.into(), Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, KqlError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_sym("*") {
                "*"
            } else if self.eat_sym("/") {
                "/"
            } else if self.eat_sym("%") {
                "%"
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Binary(op.into(), Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, KqlError> {
        // Counted, not recursed: `- - - x` of any length is one loop.
        let mut negations = 0usize;
        while self.eat_sym("-") {
            negations += 1;
        }
        let e = self.postfix()?;
        Ok(if negations % 2 == 1 {
            Expr::Neg(Box::new(e))
        } else {
            e
        })
    }

    fn postfix(&mut self) -> Result<Expr, KqlError> {
        let mut e = self.primary()?;
        loop {
            if self.eat_sym(".") {
                e = Expr::Member(Box::new(e), self.name()?);
            } else if self.eat_sym("[") {
                let index = self.expr()?;
                self.expect_sym("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, KqlError> {
        use super::Value;
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error("the query ends where a value was expected"));
        };
        self.at += 1;
        Ok(match tok {
            Tok::Str(s) => Expr::Lit(Value::Str(s)),
            Tok::Long(n) => Expr::Lit(Value::Long(n)),
            Tok::Real(n) => Expr::Lit(Value::Real(n)),
            // Ticks of 100 ns to nanoseconds.
            Tok::Span(t) => Expr::Lit(Value::Span(t.saturating_mul(100))),
            Tok::Sym("*") => Expr::Star,
            Tok::Sym("(") => {
                let e = self.expr()?;
                self.expect_sym(")")?;
                e
            }
            Tok::Name(n) => {
                let lower = n.to_lowercase();
                match lower.as_str() {
                    "true" => return Ok(Expr::Lit(Value::Bool(true))),
                    "false" => return Ok(Expr::Lit(Value::Bool(false))),
                    "null" => return Ok(Expr::Lit(Value::Null)),
                    _ => {}
                }
                if !self.eat_sym("(") {
                    return Ok(Expr::Name(n));
                }
                match lower.as_str() {
                    "datetime" => {
                        let text = self.raw_until_paren();
                        let v = super::eval::parse_datetime(text.trim()).ok_or_else(|| {
                            KqlError::syntax(format!("bad datetime literal '{text}'"))
                        })?;
                        return Ok(Expr::Lit(v));
                    }
                    "dynamic" => {
                        let v = self.dynamic_literal()?;
                        self.expect_sym(")")?;
                        return Ok(Expr::Lit(Value::Dyn(v)));
                    }
                    "typeof" => {
                        self.raw_until_paren();
                        return Ok(Expr::Lit(Value::Null));
                    }
                    _ => {}
                }
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.expr()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    self.expect_sym(")")?;
                }
                Expr::Call(lower, args)
            }
            _ => return Err(self.error("unexpected token")),
        })
    }

    /// The literal text of `datetime(…)` up to its closing parenthesis.
    fn raw_until_paren(&mut self) -> String {
        let mut text = String::new();
        let mut depth = 0;
        while let Some(t) = self.peek().cloned() {
            self.at += 1;
            match t {
                Tok::Sym(")") if depth == 0 => break,
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => depth -= 1,
                _ => {}
            }
            text.push_str(&match t {
                Tok::Name(n) => n,
                Tok::Str(s) => s,
                Tok::Long(n) => n.to_string(),
                Tok::Real(n) => n.to_string(),
                Tok::Span(s) => format!("{s}ticks"),
                Tok::Sym(s) => s.to_owned(),
            });
        }
        text
    }

    fn dynamic_literal(&mut self) -> Result<serde_json::Value, KqlError> {
        use serde_json::Value as J;
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error("unfinished dynamic literal"));
        };
        self.at += 1;
        Ok(match tok {
            Tok::Str(s) => J::String(s),
            Tok::Long(n) => J::from(n),
            Tok::Real(n) => J::from(n),
            Tok::Sym("-") => match self.dynamic_literal()? {
                J::Number(n) => J::from(-n.as_f64().unwrap_or(0.0)),
                _ => return Err(self.error("bad number in dynamic literal")),
            },
            Tok::Name(n) if n == "null" => J::Null,
            Tok::Name(n) if n == "true" => J::Bool(true),
            Tok::Name(n) if n == "false" => J::Bool(false),
            Tok::Sym("[") => {
                let mut items = Vec::new();
                if !self.eat_sym("]") {
                    loop {
                        items.push(self.dynamic_literal()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    self.expect_sym("]")?;
                }
                J::Array(items)
            }
            Tok::Sym("{") => {
                let mut map = serde_json::Map::new();
                if !self.eat_sym("}") {
                    loop {
                        let key = match self.peek().cloned() {
                            Some(Tok::Str(s)) | Some(Tok::Name(s)) => s,
                            _ => return Err(self.error("expected a key in dynamic literal")),
                        };
                        self.at += 1;
                        self.expect_sym(":")?;
                        map.insert(key, self.dynamic_literal()?);
                        if !self.eat_sym(",") {
                            break;
                        }
                    }
                    self.expect_sym("}")?;
                }
                J::Object(map)
            }
            _ => return Err(self.error("bad dynamic literal")),
        })
    }
}

fn is_word_operator(name: &str) -> bool {
    let lower = name.to_lowercase();
    let base = lower.trim_start_matches('!');
    matches!(
        base,
        "contains"
            | "contains_cs"
            | "has"
            | "has_cs"
            | "startswith"
            | "startswith_cs"
            | "endswith"
            | "endswith_cs"
            | "in"
            | "in~"
            | "has_any"
            | "has_all"
            | "between"
    ) && !(lower.starts_with('!') && matches!(base, "has_any" | "has_all"))
}
