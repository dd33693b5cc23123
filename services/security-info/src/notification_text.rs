//! The words of every notification (email, text message, call) in English, German and French,
//! from the Fluent catalogs in `locales/<language>/notifications.ftl`, built into the binary.
//! The language is the person's preferred language (its primary subtag: "fr-CH" is French);
//! a language without a catalog, or none, is English.
//!
//! Parameters arrive as the publishers' stable codes (`method_added`, `authenticator_app`,
//! `phone_sms`, `new_country`); the catalogs turn them into words, so no code reaches a person.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The languages notifications are written in; the first is the fallback.
pub const LANGUAGES: [&str; 3] = ["en", "de", "fr"];

/// Each language's catalog source, in the order of [`LANGUAGES`].
const SOURCES: [&str; 3] = [
    include_str!("../locales/en/notifications.ftl"),
    include_str!("../locales/de/notifications.ftl"),
    include_str!("../locales/fr/notifications.ftl"),
];

struct Catalog {
    language: &'static str,
    bundle: FluentBundle<FluentResource>,
}

impl Catalog {
    fn load(language: &'static str, source: &'static str) -> Self {
        let id = LanguageIdentifier::from_str(language).unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Plain text for mail clients and phones: no Unicode isolation marks around placeables.
        bundle.set_use_isolating(false);
        // A syntax error keeps the good messages; the catalog test fails on any error, so this
        // is only a guard.
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(resource, errors)| {
            tracing::error!(language, ?errors, "notification catalog has syntax errors");
            resource
        });
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(language, ?errors, "notification catalog repeats a message");
        }
        Self { language, bundle }
    }

    fn message(&self, id: &str, args: &FluentArgs) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, Some(args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                id,
                language = self.language,
                ?errors,
                "notification formatted with errors"
            );
        }
        Some(text.into_owned())
    }
}

static CATALOGS: LazyLock<Vec<Catalog>> = LazyLock::new(|| {
    LANGUAGES
        .into_iter()
        .zip(SOURCES)
        .map(|(language, source)| Catalog::load(language, source))
        .collect()
});

/// The catalog language for a person's BCP 47 tag: its primary subtag when there is a catalog
/// for it, else English.
pub fn language_for(preferred: Option<&str>) -> &'static str {
    let primary = preferred
        .and_then(|tag| tag.trim().split(['-', '_']).next())
        .unwrap_or("")
        .to_ascii_lowercase();
    LANGUAGES.into_iter().find(|l| *l == primary).unwrap_or(LANGUAGES[0])
}

/// The locale a phone provider speaks a call in, for a catalog language.
pub fn voice_locale(language: &str) -> &'static str {
    match language {
        "de" => "de-DE",
        "fr" => "fr-FR",
        _ => "en-US",
    }
}

/// Formats the catalog messages of one language.
struct Writer {
    catalog: &'static Catalog,
}

impl Writer {
    fn new(language: &str) -> Self {
        let catalogs = &*CATALOGS;
        let catalog = catalogs.iter().find(|c| c.language == language).unwrap_or(&catalogs[0]);
        Self { catalog }
    }

    /// The message `id`; English if this language lacks it (the catalog test forbids that),
    /// and the id itself if English does too.
    fn text(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        self.catalog
            .message(id, &fluent_args)
            .or_else(|| CATALOGS[0].message(id, &fluent_args))
            .unwrap_or_else(|| id.to_owned())
    }

    /// Each code of a comma-separated list in words (message `id` with the code as `name`),
    /// joined by `separator`.
    fn list(&self, codes: &str, id: &str, name: &str, separator: &str) -> String {
        codes
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|code| self.text(id, &[(name, FluentValue::from(code))]))
            .collect::<Vec<_>>()
            .join(separator)
    }
}

/// A number parameter as a Fluent number (so plural forms apply), else as text.
fn number(value: &str) -> FluentValue<'_> {
    value
        .trim()
        .parse::<i64>()
        .map(FluentValue::from)
        .unwrap_or_else(|_| FluentValue::from(value))
}

/// An RFC 3339 time as "2026-12-06 11:44 UTC"; anything else as it came.
fn when(value: &str) -> String {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| value.to_owned())
}

/// Subject and plain-text body of `template` with parameters `p`, in `language` (one of
/// [`LANGUAGES`]; anything else is English).
pub fn render(template: &str, p: &HashMap<String, String>, language: &str) -> (String, String) {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let w = Writer::new(language);
    let (subject, body) = match template {
        "verification_code" | "sign_in_code" => {
            let prefix = template.replace('_', "-");
            let args = [
                ("code", FluentValue::from(get("code"))),
                ("minutes", number(get("expires_in_minutes"))),
            ];
            (
                w.text(&format!("{prefix}-subject"), &[]),
                w.text(&format!("{prefix}-body"), &args),
            )
        }
        "security_info_changed" => {
            // Publishers send the method type as a code ("authenticator_app") or, as
            // security-info always has, in English words ("authenticator app").
            let method_type_code = get("method_type").trim().replace(' ', "_");
            let method_type = w.text("method-type", &[("type", FluentValue::from(method_type_code))]);
            let args = [
                ("change", FluentValue::from(get("change"))),
                ("method_type", FluentValue::from(method_type)),
                ("method", FluentValue::from(get("method"))),
            ];
            (
                w.text("security-info-changed-subject", &[]),
                w.text("security-info-changed-body", &args),
            )
        }
        "password_reset" => {
            let methods = w.list(get("methods"), "method-proven", "method", ", ");
            (
                w.text("password-reset-subject", &[]),
                w.text("password-reset-body", &[("methods", FluentValue::from(methods))]),
            )
        }
        "unusual_sign_in" => {
            let location = match get("location").trim() {
                "" | "unknown" => w.text("unknown-location", &[]),
                place => place.to_owned(),
            };
            let args = [
                ("time", FluentValue::from(when(get("time")))),
                ("location", FluentValue::from(location)),
                ("ip_address", FluentValue::from(get("ip_address"))),
                (
                    "reasons",
                    FluentValue::from(w.list(get("reasons"), "risk-reason", "reason", "; ")),
                ),
            ];
            (
                w.text("unusual-sign-in-subject", &[]),
                w.text("unusual-sign-in-body", &args),
            )
        }
        other => {
            // A template newer than this sender: its parameters, in a stable order, so the
            // person still learns what happened.
            let mut lines: Vec<String> = p.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            lines.sort();
            (
                w.text("other-subject", &[("template", FluentValue::from(other))]),
                lines.join("\n"),
            )
        }
    };
    (subject, format!("{body}\n"))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Every message of a catalog with the variables its value uses.
    fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        let mut all = BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut variables = BTreeSet::new();
                if let Some(pattern) = &m.value {
                    pattern_variables(pattern, &mut variables);
                }
                assert!(
                    all.insert(m.id.name.to_owned(), variables).is_none(),
                    "{} twice",
                    m.id.name
                );
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
            ast::InlineExpression::Placeable { expression } => expression_variables(expression, out),
            _ => {}
        }
    }

    #[test]
    fn every_language_has_every_message_with_the_same_placeholders() {
        let english = messages(SOURCES[0]);
        assert!(english.len() >= 14, "the English catalog is read: {}", english.len());
        for (language, source) in LANGUAGES.iter().zip(SOURCES).skip(1) {
            let translated = messages(source);
            assert_eq!(
                translated.keys().collect::<Vec<_>>(),
                english.keys().collect::<Vec<_>>(),
                "{language}: the same messages as English"
            );
            for (id, variables) in &english {
                assert_eq!(&translated[id], variables, "{language} {id}: the same placeholders");
            }
        }
    }

    #[test]
    fn every_catalog_loads_without_errors() {
        for (language, source) in LANGUAGES.into_iter().zip(SOURCES) {
            let resource = FluentResource::try_new(source.to_owned())
                .unwrap_or_else(|(_, errors)| panic!("{language}: {errors:?}"));
            let mut bundle = FluentBundle::new_concurrent(vec![LanguageIdentifier::from_str(language).expect("tag")]);
            bundle.add_resource(resource).expect("no message twice");
        }
    }

    #[test]
    fn the_language_is_the_primary_subtag_with_english_for_the_rest() {
        assert_eq!(language_for(Some("de")), "de");
        assert_eq!(language_for(Some("fr-CH")), "fr");
        assert_eq!(language_for(Some("DE-at")), "de");
        assert_eq!(language_for(Some("en-GB")), "en");
        assert_eq!(language_for(Some("es")), "en");
        assert_eq!(language_for(Some("")), "en");
        assert_eq!(language_for(None), "en");
        // A language whose tag merely starts like a catalog's is not that language.
        assert_eq!(language_for(Some("frr")), "en");
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn code() -> HashMap<String, String> {
        params(&[("code", "049381"), ("expires_in_minutes", "10")])
    }

    #[test]
    fn codes_in_each_language() {
        let (subject, body) = render("verification_code", &code(), "en");
        assert_eq!(subject, "Your MyAccount verification code");
        assert_eq!(
            body,
            "Your verification code is 049381.\nIt expires in 10 minutes. If you did not ask for it, ignore this message.\n"
        );
        let (subject, body) = render("verification_code", &code(), "de");
        assert_eq!(subject, "Ihr MyAccount-Bestätigungscode");
        assert_eq!(
            body,
            "Ihr Bestätigungscode lautet 049381.\nEr ist 10 Minuten lang gültig. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.\n"
        );
        let (subject, body) = render("sign_in_code", &code(), "fr");
        assert_eq!(subject, "Votre code de connexion MyAccount");
        assert_eq!(
            body,
            "Votre code de connexion est 049381.\nIl expire dans 10 minutes. Si vous n’êtes pas en train de vous connecter, changez votre mot de passe.\n"
        );
        let (_, body) = render("sign_in_code", &code(), "de");
        assert!(body.starts_with("Ihr Anmeldecode lautet 049381.\n"), "{body}");
        // One minute is singular; the code keeps its leading zero.
        let one = params(&[("code", "049381"), ("expires_in_minutes", "1")]);
        assert!(render("verification_code", &one, "en").1.contains("in 1 minute."));
        assert!(
            render("verification_code", &one, "de")
                .1
                .contains("Er ist 1 Minute lang")
        );
    }

    #[test]
    fn a_security_info_change_in_words_in_each_language() {
        let added = params(&[
            ("change", "method_added"),
            ("method_type", "authenticator app"),
            ("method", "Phone"),
        ]);
        let (subject, body) = render("security_info_changed", &added, "en");
        assert_eq!(subject, "Your MyAccount security info changed");
        assert_eq!(
            body,
            "A sign-in method was added to your account: authenticator app (Phone).\nIf this wasn’t you, review your security info and change your password.\n"
        );
        let (subject, body) = render("security_info_changed", &added, "de");
        assert_eq!(subject, "Ihre MyAccount-Sicherheitsinformationen wurden geändert");
        assert!(
            body.starts_with("Ihrem Konto wurde eine Anmeldemethode hinzugefügt: Authenticator-App (Phone).\n"),
            "{body}"
        );
        let (_, body) = render("security_info_changed", &added, "fr");
        assert!(
            body.starts_with(
                "Une méthode de connexion a été ajoutée à votre compte : application d’authentification (Phone).\n"
            ),
            "{body}"
        );
        let removed = params(&[
            ("change", "method_removed"),
            ("method_type", "email"),
            ("method", "adele@contoso.example"),
        ]);
        let (_, body) = render("security_info_changed", &removed, "de");
        assert!(
            body.starts_with(
                "Aus Ihrem Konto wurde eine Anmeldemethode entfernt: E-Mail-Adresse (adele@contoso.example).\n"
            ),
            "{body}"
        );
        let default = params(&[
            ("change", "default_changed"),
            ("method_type", "security_key"),
            ("method", "YubiKey"),
        ]);
        let (_, body) = render("security_info_changed", &default, "fr");
        assert!(
            body.starts_with("Votre méthode de connexion par défaut est désormais : clé de sécurité (YubiKey).\n"),
            "{body}"
        );
        for language in LANGUAGES {
            let (_, body) = render("security_info_changed", &default, language);
            assert!(!body.contains('_'), "{language}: no code left in {body}");
        }
    }

    #[test]
    fn a_password_reset_names_the_proofs_in_words() {
        let reset = params(&[("methods", "phone_sms, recovery_code")]);
        let (subject, body) = render("password_reset", &reset, "en");
        assert_eq!(subject, "Your MyAccount password was reset");
        assert!(
            body.contains("proving: code by text message, recovery code.\n"),
            "{body}"
        );
        let (subject, body) = render("password_reset", &reset, "de");
        assert_eq!(subject, "Ihr MyAccount-Kennwort wurde zurückgesetzt");
        assert!(
            body.contains("Nachgewiesen wurde: Code per SMS, Wiederherstellungscode.\n"),
            "{body}"
        );
        let (_, body) = render("password_reset", &reset, "fr");
        assert!(
            body.contains("en prouvant : code par SMS, code de récupération.\n"),
            "{body}"
        );
    }

    #[test]
    fn an_unusual_sign_in_in_words() {
        let sign_in = params(&[
            ("time", "2026-12-06T11:44:15.123+00:00"),
            ("ip_address", "203.0.113.7"),
            ("location", "unknown"),
            ("reasons", "new_country,impossible_travel"),
        ]);
        let (_, body) = render("unusual_sign_in", &sign_in, "en");
        assert!(body.contains("When: 2026-12-06 11:44 UTC\n"), "{body}");
        assert!(
            body.contains("Where: unknown place (IP address 203.0.113.7)\n"),
            "{body}"
        );
        assert!(
            body.contains("Why it stands out: a country you have not signed in from before; too far from"),
            "{body}"
        );
        let (subject, body) = render("unusual_sign_in", &sign_in, "de");
        assert_eq!(subject, "Ungewöhnliche Anmeldung bei Ihrem MyAccount-Konto");
        assert!(
            body.contains("Wo: unbekannter Ort (IP-Adresse 203.0.113.7)\n"),
            "{body}"
        );
        let (subject, body) = render("unusual_sign_in", &sign_in, "fr");
        assert_eq!(subject, "Connexion inhabituelle à votre compte MyAccount");
        assert!(body.contains("Où : lieu inconnu (adresse IP 203.0.113.7)\n"), "{body}");
    }

    #[test]
    fn an_unknown_template_still_says_what_it_carries() {
        let (subject, body) = render("quota_warning", &params(&[("used", "90"), ("limit", "100")]), "de");
        assert_eq!(subject, "MyAccount-Benachrichtigung (quota_warning)");
        assert_eq!(body, "limit: 100\nused: 90\n");
    }
}
