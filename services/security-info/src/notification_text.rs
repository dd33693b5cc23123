//! The words of every notification (email, text message, call) in English, German and French,
//! from the Fluent catalogs in `locales/<language>/notifications.ftl`, built into the binary.
//! The language is the person's preferred language (its primary subtag: "fr-CH" is French);
//! a language without a catalog, or none, is English.
//!
//! Times are written in the person's time zone (with its abbreviation, or its offset where the
//! zone has none) and in the date order of their regional format (else of their language); a
//! person who chose neither reads ISO dates in UTC.
//!
//! Parameters arrive as the publishers' stable codes (`method_added`, `authenticator_app`,
//! `phone_sms`, `new_country`); the catalogs turn them into words, so no code reaches a person.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::DateTime;
use chrono_tz::Tz;
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

/// The order and clock a date and time are written in, after the common styles of a regional
/// format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateStyle {
    /// 2026-12-06 11:44 (any format this list does not know, and none).
    Iso,
    /// 12/6/2026, 11:44 AM (en, en-US).
    UnitedStates,
    /// 06/12/2026, 11:44 (en-GB and English of other regions).
    British,
    /// 06.12.2026, 11:44 (de).
    German,
    /// 06/12/2026 11:44 (fr; fr-CA writes ISO dates).
    French,
}

impl DateStyle {
    fn of(tag: &str) -> Self {
        let Ok(id) = LanguageIdentifier::from_str(tag.trim()) else {
            return Self::Iso;
        };
        let region = id.region.as_ref().map(|r| r.as_str());
        match (id.language.as_str(), region) {
            ("en", None | Some("US")) => Self::UnitedStates,
            ("en", Some(_)) => Self::British,
            ("de", _) => Self::German,
            ("fr", Some("CA")) => Self::Iso,
            ("fr", _) => Self::French,
            _ => Self::Iso,
        }
    }

    /// The `chrono` format, ending in the zone's abbreviation (`%Z`: "CET", "EST", or "+04"
    /// for a zone without one).
    fn pattern(self) -> &'static str {
        match self {
            Self::Iso => "%Y-%m-%d %H:%M %Z",
            Self::UnitedStates => "%-m/%-d/%Y, %-I:%M %p %Z",
            Self::British => "%d/%m/%Y, %H:%M %Z",
            Self::German => "%d.%m.%Y, %H:%M %Z",
            Self::French => "%d/%m/%Y %H:%M %Z",
        }
    }
}

/// How a person reads a notification: the catalog language, and the time zone and date style
/// its times are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    language: &'static str,
    time_zone: Tz,
    dates: DateStyle,
}

impl Reader {
    /// From what identity says of the person, each empty when not chosen: the
    /// language's catalog (English without one), the time zone (UTC when none or not an IANA
    /// name), the regional format's date style (the language's when no format was chosen, as
    /// the portal does; ISO when neither is known).
    pub fn new(preferred_language: &str, time_zone: &str, regional_format: &str) -> Self {
        fn chosen(value: &str) -> Option<&str> {
            Some(value.trim()).filter(|v| !v.is_empty())
        }
        let time_zone = chosen(time_zone)
            .and_then(|zone| Tz::from_str(zone).ok())
            .unwrap_or(Tz::UTC);
        let dates = chosen(regional_format)
            .or(chosen(preferred_language))
            .map_or(DateStyle::Iso, DateStyle::of);
        Self {
            language: language_for(Some(preferred_language)),
            time_zone,
            dates,
        }
    }

    /// One of [`LANGUAGES`].
    pub fn language(&self) -> &'static str {
        self.language
    }

    /// An RFC 3339 time in the person's zone and date style ("06.12.2026, 12:44 CET"); anything
    /// else as it came.
    fn time(&self, value: &str) -> String {
        DateTime::parse_from_rfc3339(value.trim())
            .map(|t| {
                t.with_timezone(&self.time_zone)
                    .format(self.dates.pattern())
                    .to_string()
            })
            .unwrap_or_else(|_| value.to_owned())
    }
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

/// Subject and plain-text body of `template` with parameters `p`, as `reader` reads them.
pub fn render(template: &str, p: &HashMap<String, String>, reader: &Reader) -> (String, String) {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let w = Writer::new(reader.language);
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
                ("time", FluentValue::from(reader.time(get("time")))),
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

    /// Someone who chose a language and nothing else.
    fn reader(language: &str) -> Reader {
        Reader::new(language, "", "")
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn code() -> HashMap<String, String> {
        params(&[("code", "049381"), ("expires_in_minutes", "10")])
    }

    #[test]
    fn codes_in_each_language() {
        let (subject, body) = render("verification_code", &code(), &reader("en"));
        assert_eq!(subject, "Your MyAccount verification code");
        assert_eq!(
            body,
            "Your verification code is 049381.\nIt expires in 10 minutes. If you did not ask for it, ignore this message.\n"
        );
        let (subject, body) = render("verification_code", &code(), &reader("de"));
        assert_eq!(subject, "Ihr MyAccount-Bestätigungscode");
        assert_eq!(
            body,
            "Ihr Bestätigungscode lautet 049381.\nEr ist 10 Minuten lang gültig. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.\n"
        );
        let (subject, body) = render("sign_in_code", &code(), &reader("fr"));
        assert_eq!(subject, "Votre code de connexion MyAccount");
        assert_eq!(
            body,
            "Votre code de connexion est 049381.\nIl expire dans 10 minutes. Si vous n’êtes pas en train de vous connecter, changez votre mot de passe.\n"
        );
        let (_, body) = render("sign_in_code", &code(), &reader("de"));
        assert!(body.starts_with("Ihr Anmeldecode lautet 049381.\n"), "{body}");
        // One minute is singular; the code keeps its leading zero.
        let one = params(&[("code", "049381"), ("expires_in_minutes", "1")]);
        assert!(
            render("verification_code", &one, &reader("en"))
                .1
                .contains("in 1 minute.")
        );
        assert!(
            render("verification_code", &one, &reader("de"))
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
        let (subject, body) = render("security_info_changed", &added, &reader("en"));
        assert_eq!(subject, "Your MyAccount security info changed");
        assert_eq!(
            body,
            "A sign-in method was added to your account: authenticator app (Phone).\nIf this wasn’t you, review your security info and change your password.\n"
        );
        let (subject, body) = render("security_info_changed", &added, &reader("de"));
        assert_eq!(subject, "Ihre MyAccount-Sicherheitsinformationen wurden geändert");
        assert!(
            body.starts_with("Ihrem Konto wurde eine Anmeldemethode hinzugefügt: Authenticator-App (Phone).\n"),
            "{body}"
        );
        let (_, body) = render("security_info_changed", &added, &reader("fr"));
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
        let (_, body) = render("security_info_changed", &removed, &reader("de"));
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
        let (_, body) = render("security_info_changed", &default, &reader("fr"));
        assert!(
            body.starts_with("Votre méthode de connexion par défaut est désormais : clé de sécurité (YubiKey).\n"),
            "{body}"
        );
        for language in LANGUAGES {
            let (_, body) = render("security_info_changed", &default, &reader(language));
            assert!(!body.contains('_'), "{language}: no code left in {body}");
        }
    }

    #[test]
    fn a_password_reset_names_the_proofs_in_words() {
        let reset = params(&[("methods", "phone_sms, recovery_code")]);
        let (subject, body) = render("password_reset", &reset, &reader("en"));
        assert_eq!(subject, "Your MyAccount password was reset");
        assert!(
            body.contains("proving: code by text message, recovery code.\n"),
            "{body}"
        );
        let (subject, body) = render("password_reset", &reset, &reader("de"));
        assert_eq!(subject, "Ihr MyAccount-Kennwort wurde zurückgesetzt");
        assert!(
            body.contains("Nachgewiesen wurde: Code per SMS, Wiederherstellungscode.\n"),
            "{body}"
        );
        let (_, body) = render("password_reset", &reset, &reader("fr"));
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
        // No language, zone or format chosen: English, an ISO date in UTC.
        let (_, body) = render("unusual_sign_in", &sign_in, &Reader::new("", "", ""));
        assert!(body.contains("When: 2026-12-06 11:44 UTC\n"), "{body}");
        assert!(
            body.contains("Where: unknown place (IP address 203.0.113.7)\n"),
            "{body}"
        );
        assert!(
            body.contains("Why it stands out: a country you have not signed in from before; too far from"),
            "{body}"
        );
        let (subject, body) = render("unusual_sign_in", &sign_in, &reader("de"));
        assert_eq!(subject, "Ungewöhnliche Anmeldung bei Ihrem MyAccount-Konto");
        assert!(
            body.contains("Wo: unbekannter Ort (IP-Adresse 203.0.113.7)\n"),
            "{body}"
        );
        let (subject, body) = render("unusual_sign_in", &sign_in, &reader("fr"));
        assert_eq!(subject, "Connexion inhabituelle à votre compte MyAccount");
        assert!(body.contains("Où : lieu inconnu (adresse IP 203.0.113.7)\n"), "{body}");
    }

    /// The time of an unusual sign-in in the person's zone (its abbreviation, or its offset)
    /// and in their regional format's date order; UTC and ISO when they chose none.
    #[test]
    fn an_unusual_sign_in_happened_at_the_person_s_time() {
        let at = |time: &str, reader: Reader| {
            let sign_in = params(&[("time", time), ("ip_address", "203.0.113.7"), ("reasons", "new_device")]);
            render("unusual_sign_in", &sign_in, &reader).1
        };
        let winter = "2026-12-06T11:44:15Z";
        let cases = [
            (
                Reader::new("de", "Europe/Berlin", "de-DE"),
                "Wann: 06.12.2026, 12:44 CET\n",
            ),
            (
                Reader::new("fr", "Europe/Paris", "fr-FR"),
                "Quand : 06/12/2026 12:44 CET\n",
            ),
            (
                Reader::new("en", "America/New_York", "en-US"),
                "When: 12/6/2026, 6:44 AM EST\n",
            ),
            (
                Reader::new("en-GB", "Europe/London", "en-GB"),
                "When: 06/12/2026, 11:44 GMT\n",
            ),
            // The format, not the language, orders the date; no format: the language's order.
            (
                Reader::new("en", "Europe/Berlin", "de-CH"),
                "When: 06.12.2026, 12:44 CET\n",
            ),
            (
                Reader::new("fr-CH", "Europe/Zurich", ""),
                "Quand : 06/12/2026 12:44 CET\n",
            ),
            // A zone without an abbreviation gives its offset.
            (Reader::new("", "Asia/Dubai", ""), "When: 2026-12-06 15:44 +04\n"),
            // A format this list does not know: ISO, still in the zone.
            (Reader::new("", "Asia/Tokyo", "ja-JP"), "When: 2026-12-06 20:44 JST\n"),
            // No zone, or one that is not an IANA name: UTC.
            (Reader::new("de", "", "de-DE"), "Wann: 06.12.2026, 11:44 UTC\n"),
            (Reader::new("", "Mars/Olympus_Mons", ""), "When: 2026-12-06 11:44 UTC\n"),
        ];
        for (reader, expected) in cases {
            let body = at(winter, reader);
            assert!(body.contains(expected), "{reader:?}: {body}");
        }
        // Summer time has its own abbreviation.
        let body = at("2026-07-01T08:05:00Z", Reader::new("de", "Europe/Berlin", "de-DE"));
        assert!(body.contains("Wann: 01.07.2026, 10:05 CEST\n"), "{body}");
        // A time that is not RFC 3339 is written as it came.
        assert!(at("yesterday", reader("fr")).contains("Quand : yesterday\n"));
    }

    #[test]
    fn an_unknown_template_still_says_what_it_carries() {
        let (subject, body) = render(
            "quota_warning",
            &params(&[("used", "90"), ("limit", "100")]),
            &reader("de"),
        );
        assert_eq!(subject, "MyAccount-Benachrichtigung (quota_warning)");
        assert_eq!(body, "limit: 100\nused: 90\n");
    }
}
