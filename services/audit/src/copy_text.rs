//! Rows in `COPY ... FROM STDIN` text format, for appending a batch of sign-ins in one stream
//! instead of an `INSERT` with dozens of array parameters.
//!
//! The format (PostgreSQL manual, "COPY", "Text Format"): one line per row, columns separated
//! by a tab, `\N` for NULL, and backslash, tab, newline and carriage return escaped with a
//! backslash. An array column is its literal (`{"a","b"}`) escaped the same way.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

/// A buffer of rows; each row is a run of `field`/`text`/... calls closed by `end_row`.
#[derive(Default)]
pub struct CopyText {
    buf: String,
    /// No separator before a row's first column.
    row_started: bool,
}

impl CopyText {
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: String::with_capacity(bytes),
            row_started: false,
        }
    }

    fn separate(&mut self) {
        if self.row_started {
            self.buf.push('\t');
        }
        self.row_started = true;
    }

    fn escaped(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.separate();
        self.escaped(s);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.buf.push_str("\\N");
        self
    }

    pub fn uuid(&mut self, u: Uuid) -> &mut Self {
        self.separate();
        // Hyphenated hex: nothing to escape.
        let _ = write!(self.buf, "{}", u.hyphenated());
        self
    }

    pub fn optional_uuid(&mut self, u: Option<Uuid>) -> &mut Self {
        match u {
            Some(u) => self.uuid(u),
            None => self.null(),
        }
    }

    pub fn timestamp(&mut self, t: DateTime<Utc>) -> &mut Self {
        self.separate();
        self.buf.push_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true));
        self
    }

    pub fn boolean(&mut self, b: bool) -> &mut Self {
        self.separate();
        self.buf.push(if b { 't' } else { 'f' });
        self
    }

    /// A finite float; NULL otherwise (Postgres would store NaN, the log never wants it).
    pub fn optional_f64(&mut self, x: Option<f64>) -> &mut Self {
        match x.filter(|x| x.is_finite()) {
            Some(x) => {
                self.separate();
                // `{:?}` is the shortest text that reads back as the same float; Postgres
                // reads its exponent form (`1e-7`) too.
                let _ = write!(self.buf, "{x:?}");
                self
            }
            None => self.null(),
        }
    }

    /// A `text[]` of the items, each quoted.
    pub fn text_array<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        let mut literal = String::from("{");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in item.chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        self.text(&literal)
    }

    pub fn end_row(&mut self) {
        self.buf.push('\n');
        self.row_started = false;
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf.into_bytes()
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_line_breaks_in_values_are_escaped() {
        let mut rows = CopyText::default();
        rows.text("a\tb\\c\nd\re").null().boolean(true).end_row();
        assert_eq!(rows.as_str(), "a\\tb\\\\c\\nd\\re\t\\N\tt\n");
    }

    #[test]
    fn array_items_are_quoted_then_escaped_for_copy() {
        let mut rows = CopyText::default();
        rows.text_array(["pwd", "say \"hi\"", "back\\slash", ""]).end_row();
        // Array literal {"pwd","say \"hi\"","back\\slash",""}, whose backslashes COPY doubles.
        assert_eq!(
            rows.as_str(),
            "{\"pwd\",\"say \\\\\"hi\\\\\"\",\"back\\\\\\\\slash\",\"\"}\n"
        );
        let mut empty = CopyText::default();
        empty.text_array(std::iter::empty()).end_row();
        assert_eq!(empty.as_str(), "{}\n");
    }

    #[test]
    fn floats_and_times_are_written_in_full() {
        let mut rows = CopyText::default();
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("time");
        rows.optional_f64(Some(0.000_000_1))
            .optional_f64(Some(f64::NAN))
            .optional_f64(None)
            .timestamp(t)
            .end_row();
        assert_eq!(rows.as_str(), "1e-7\t\\N\t\\N\t2023-11-14T22:13:20.123456Z\n");
    }
}
