//! Configuration from environment variables, validated before anything starts.
//!
//! Binaries read the process environment once into an [`Env`]; tests build `Settings` values
//! directly and never touch process variables. A bad value fails start-up with one line that
//! names the variable.

use std::collections::HashMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {variable}: {reason}")]
pub struct ConfigError {
    pub variable: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            reason: reason.into(),
        }
    }
}

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }

    /// This snapshot with `vars` set (replacing values of the same name).
    pub fn overlay(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.vars.extend(vars);
        self
    }

    /// The raw value, with empty values treated as unset.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    pub fn required<T>(&self, name: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.raw(name) {
            Some(value) => parse(name, value),
            None => Err(ConfigError::new(name, "is required but not set")),
        }
    }

    pub fn optional<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.raw(name).map(|value| parse(name, value)).transpose()
    }

    pub fn or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// A boolean: `true`/`false`, `1`/`0`, `yes`/`no`.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
            Some(v) => Err(ConfigError::new(name, format!("expected true or false, got {v:?}"))),
        }
    }

    /// A PEM file (certificate, CA, key), if set: it must be readable and hold a block labelled
    /// `...label` now, so a wrong path fails start-up naming the variable rather than every
    /// connection later.
    pub fn pem_file(&self, name: &str, label: &str) -> Result<Option<PathBuf>, ConfigError> {
        let Some(path) = self.optional::<PathBuf>(name)? else {
            return Ok(None);
        };
        check_pem_file(&path, label).map_err(|reason| ConfigError::new(name, reason))?;
        Ok(Some(path))
    }

    /// A duration written as whole seconds (`30`), or with a unit: `250ms`, `30s`, `10m`, `2h`, `7d`.
    pub fn duration(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => parse_duration(v).ok_or_else(|| {
                ConfigError::new(name, format!("expected a duration like 30s, 10m or 250ms, got {v:?}"))
            }),
        }
    }
}

/// Whether `path` is a readable PEM file with a block whose label ends in `label`
/// (`CERTIFICATE`; `PRIVATE KEY` matches PKCS#8, RSA and EC keys). Never quotes the content.
pub fn check_pem_file(path: &Path, label: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let end = format!("{label}-----");
    let has_block = text
        .lines()
        .any(|line| line.starts_with("-----BEGIN ") && line.trim_end().ends_with(&end));
    if has_block {
        Ok(())
    } else {
        Err(format!("{} holds no PEM {label}", path.display()))
    }
}

fn parse<T>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .trim()
        .parse()
        .map_err(|e| ConfigError::new(name, format!("cannot parse {value:?}: {e}")))
}

pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis = match unit.trim() {
        "" | "s" => number.checked_mul(1_000)?,
        "ms" => number,
        "m" => number.checked_mul(60_000)?,
        "h" => number.checked_mul(3_600_000)?,
        "d" => number.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_bad_variable_in_one_line() {
        let env = Env::from_pairs([("IDENTITY_GRPC_PORT", "eighty")]);
        let err = env.or::<u16>("IDENTITY_GRPC_PORT", 50051).unwrap_err();
        assert_eq!(err.variable, "IDENTITY_GRPC_PORT");
        let line = err.to_string();
        assert!(
            line.starts_with("invalid configuration: IDENTITY_GRPC_PORT: cannot parse \"eighty\""),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn missing_required_variable_is_named() {
        let err = Env::default().required::<String>("NATS_URL").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: NATS_URL: is required but not set"
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let env = Env::from_pairs([("A", "  ")]);
        assert_eq!(env.or("A", 7u32).unwrap(), 7);
    }

    #[test]
    fn durations_and_flags() {
        let env = Env::from_pairs([("D", "10m"), ("F", "yes"), ("BAD", "soon"), ("BADF", "maybe")]);
        assert_eq!(env.duration("D", Duration::ZERO).unwrap(), Duration::from_secs(600));
        assert!(env.flag("F", false).unwrap());
        assert_eq!(env.duration("BAD", Duration::ZERO).unwrap_err().variable, "BAD");
        assert_eq!(env.flag("BADF", false).unwrap_err().variable, "BADF");
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("-1s"), None);
    }
}
