//! Postgres array literals, for binding a text array per row: Postgres has no arrays of arrays
//! of differing lengths, so a batch passes each row's array as its literal and casts it.

/// `{"a","b"}`: every item quoted, with `"` and `\` escaped (PostgreSQL manual, "Array Value
/// Input"), so any text survives, the empty string and `NULL` included.
pub fn text_array_literal<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
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
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_quoted_and_quotes_and_backslashes_escaped() {
        assert_eq!(
            text_array_literal(["pwd", "say \"hi\"", "back\\slash", "", "NULL", "a,b{c}"]),
            r#"{"pwd","say \"hi\"","back\\slash","","NULL","a,b{c}"}"#
        );
        assert_eq!(text_array_literal(std::iter::empty()), "{}");
    }
}
