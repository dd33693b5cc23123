//! Language and region: the Fluent catalogs of `web/locales/<language>/` (the same files the
//! portal loads), built into the binary, and the choice of a language for an answer: the
//! person's `preferredLanguage` when signed in, else what `Accept-Language` asks for, else
//! English.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use rust_embed::RustEmbed;
use unic_langid::LanguageIdentifier;

/// The catalogs: `<language>/<name>.ftl`.
#[derive(RustEmbed)]
#[folder = "../web/locales/"]
#[include = "*.ftl"]
pub struct CatalogFiles;

/// The languages every catalog is complete in; the first is the fallback.
pub const LANGUAGES: [&str; 3] = ["en", "de", "fr"];

/// One language's messages, all of its `.ftl` files together.
pub struct Catalog {
    language: &'static str,
    bundle: FluentBundle<FluentResource>,
}

impl Catalog {
    fn load(language: &'static str) -> Self {
        let id = LanguageIdentifier::from_str(language).unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around placeables: the text goes into JSON for programs
        // as much as for people.
        bundle.set_use_isolating(false);
        let prefix = format!("{language}/");
        for name in CatalogFiles::iter().filter(|n| n.starts_with(&prefix)) {
            let Some(file) = CatalogFiles::get(&name) else { continue };
            let source = String::from_utf8_lossy(&file.data).into_owned();
            // A file with a syntax error still gives its good messages; the catalog test fails
            // on any error, so this is only a guard.
            let resource = FluentResource::try_new(source).unwrap_or_else(|(resource, errors)| {
                tracing::error!(%name, ?errors, "catalog has syntax errors");
                resource
            });
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(%name, ?errors, "catalog repeats a message");
            }
        }
        Self { language, bundle }
    }

    /// The BCP 47 tag of this catalog's language (`Content-Language`).
    pub fn language(&self) -> &'static str {
        self.language
    }

    pub fn is_fallback(&self) -> bool {
        self.language == LANGUAGES[0]
    }

    /// The message `id` with its arguments, or `None` when this catalog has no such message.
    pub fn message(&self, id: &str, args: &[(&str, &str)]) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(id, language = self.language, ?errors, "message formatted with errors");
        }
        Some(text.into_owned())
    }

    /// The message `id` with its arguments; English's when this catalog lacks it (the parity
    /// test forbids that), and empty when English lacks it too.
    pub fn text(&self, id: &str, args: &[(&str, &str)]) -> String {
        self.message(id, args)
            .or_else(|| catalogs().fallback().message(id, args))
            .unwrap_or_default()
    }
}

/// Every language's catalog, loaded once.
pub struct Catalogs {
    by_language: HashMap<&'static str, Catalog>,
    available: Vec<LanguageIdentifier>,
}

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| Catalogs {
    by_language: LANGUAGES.into_iter().map(|l| (l, Catalog::load(l))).collect(),
    available: LANGUAGES
        .iter()
        .filter_map(|l| LanguageIdentifier::from_str(l).ok())
        .collect(),
});

pub fn catalogs() -> &'static Catalogs {
    &CATALOGS
}

impl Catalogs {
    pub fn fallback(&self) -> &Catalog {
        self.get(LANGUAGES[0])
    }

    /// The catalog of one of [`LANGUAGES`] (English for any other).
    pub fn get(&self, language: &str) -> &Catalog {
        match self.by_language.get(language) {
            Some(catalog) => catalog,
            None => self.fallback(),
        }
    }

    /// The best catalog for the languages asked for, most wanted first (`de-AT` finds `de`).
    pub fn negotiate(&self, requested: &[LanguageIdentifier]) -> &Catalog {
        let default = self.available.first();
        let chosen = negotiate_languages(requested, &self.available, default, NegotiationStrategy::Lookup);
        let language = chosen.first().map(|l| l.language.as_str()).unwrap_or(LANGUAGES[0]);
        self.get(language)
    }

    /// The catalog for an answer: the person's own language when it has one we have, then
    /// `Accept-Language`'s, then English.
    pub fn choose(&self, preferred_language: Option<&str>, accept_language: Option<&str>) -> &Catalog {
        let mut requested: Vec<LanguageIdentifier> = preferred_language
            .and_then(|l| LanguageIdentifier::from_str(l).ok())
            .into_iter()
            .collect();
        requested.extend(accept_language.map(parse_accept_language).unwrap_or_default());
        self.negotiate(&requested)
    }
}

/// `Accept-Language` (RFC 9110 §12.5.4): the tags by their `q` weight, highest first (ties in
/// the order given), without those of weight 0 and `*`.
pub fn parse_accept_language(header: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(u16, LanguageIdentifier)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .map(|q| (q.clamp(0.0, 1.0) * 1000.0) as u16)
                })?;
            if tag == "*" || weight == 0 {
                return None;
            }
            LanguageIdentifier::from_str(tag).ok().map(|id| (weight, id))
        })
        .collect();
    // A stable sort: tags of the same weight keep the order given.
    weighted.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    weighted.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Every message of every file of a language, with the variables its value and attributes
    /// use.
    fn messages(language: &str) -> BTreeMap<String, BTreeSet<String>> {
        let prefix = format!("{language}/");
        let mut all = BTreeMap::new();
        for name in CatalogFiles::iter().filter(|n| n.starts_with(&prefix)) {
            let file = CatalogFiles::get(&name).expect("listed");
            let source = String::from_utf8(file.data.into_owned()).expect("UTF-8");
            let resource = fluent_syntax::parser::parse(source.as_str())
                .unwrap_or_else(|(_, errors)| panic!("{name} does not parse: {errors:?}"));
            for entry in resource.body {
                let (id, value, attributes) = match entry {
                    ast::Entry::Message(m) => (m.id.name.to_owned(), m.value, m.attributes),
                    ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(t.value), t.attributes),
                    _ => continue,
                };
                let mut variables = BTreeSet::new();
                if let Some(pattern) = &value {
                    pattern_variables(pattern, &mut variables);
                }
                for attribute in &attributes {
                    pattern_variables(&attribute.value, &mut variables);
                }
                let file_and_id = format!("{}:{id}", name.trim_start_matches(&prefix));
                assert!(all.insert(file_and_id, variables).is_none(), "{name}: {id} twice");
            }
        }
        all
    }

    fn pattern_variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for variant in variants {
                    pattern_variables(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for argument in &arguments.positional {
                    inline_variables(argument, out);
                }
                for named in &arguments.named {
                    inline_variables(&named.value, out);
                }
            }
            ast::InlineExpression::Placeable { expression } => expression_variables(expression, out),
            _ => {}
        }
    }

    #[test]
    fn every_language_has_every_message_with_the_same_placeholders() {
        let english = messages("en");
        assert!(english.len() > 50, "the English catalogs are found: {}", english.len());
        for language in &LANGUAGES[1..] {
            let translated = messages(language);
            let missing: Vec<_> = english.keys().filter(|k| !translated.contains_key(*k)).collect();
            let extra: Vec<_> = translated.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{language} lacks {missing:?}");
            assert!(extra.is_empty(), "{language} has messages English does not: {extra:?}");
            for (id, variables) in &english {
                assert_eq!(
                    &translated[id], variables,
                    "{language} {id}: the same placeholders as English"
                );
            }
        }
    }

    #[test]
    fn the_person_s_language_comes_first_then_accept_language_then_english() {
        let c = catalogs();
        assert_eq!(c.choose(Some("de-CH"), Some("fr")).language(), "de");
        assert_eq!(c.choose(Some("es"), Some("fr-CA, de;q=0.5")).language(), "fr");
        assert_eq!(c.choose(None, Some("es, de;q=0.4, fr;q=0.8")).language(), "fr");
        assert_eq!(c.choose(None, Some("fr;q=0, de;q=0.1")).language(), "de");
        assert_eq!(c.choose(Some(""), Some("not a tag;;, *")).language(), "en");
        assert_eq!(c.choose(None, None).language(), "en");
    }

    /// "My sign-ins" writes why a sign-in failed by its code (`sign-ins-failure-<code>`): every
    /// code audit can record has its message in every language.
    #[test]
    fn every_sign_in_failure_reason_has_its_message() {
        for language in LANGUAGES {
            let catalog = catalogs().get(language);
            for reason in myaccount_proto::events::v1::SignInFailureReason::all() {
                let id = format!("sign-ins-failure-{}", reason.code().replace('_', "-"));
                assert!(catalog.message(&id, &[]).is_some(), "{language}: {id}");
            }
        }
    }

    #[test]
    fn messages_are_formatted_with_their_arguments() {
        let de = catalogs().get("de");
        assert_eq!(
            de.message("problem-validation-error", &[]).as_deref(),
            Some("Einige Felder sind ungültig")
        );
        assert_eq!(de.message("no-such-message", &[]), None);
    }
}
