//! How long a caller may reuse a gRPC answer, said the HTTP way (RFC 9111 `cache-control` in
//! the response metadata): `max-age=N` for an answer that is the same for everyone who may ask,
//! `private, max-age=N` for one that is the asking person's own. The gateway reuses them (its
//! `remembered` module); a caller that ignores them only asks more often.

use std::time::Duration;

/// Who may be given an answer again, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Anyone signed in: the answer does not depend on who asks.
    Everyone(Duration),
    /// Only the person (the token) that asked.
    Person(Duration),
}

impl Reuse {
    pub fn max_age(self) -> Duration {
        match self {
            Reuse::Everyone(d) | Reuse::Person(d) => d,
        }
    }
}

/// Marks `response` reusable as `reuse` says.
pub fn mark<T>(response: &mut tonic::Response<T>, reuse: Reuse) {
    let value = match reuse {
        Reuse::Everyone(d) => format!("max-age={}", d.as_secs()),
        Reuse::Person(d) => format!("private, max-age={}", d.as_secs()),
    };
    if let Ok(value) = value.parse() {
        response.metadata_mut().insert("cache-control", value);
    }
}

/// What a response's `cache-control` allows; `None` without a `max-age` (or with `no-store`).
pub fn reuse_of<T>(response: &tonic::Response<T>) -> Option<Reuse> {
    let value = response.metadata().get("cache-control")?.to_str().ok()?;
    let directives: Vec<&str> = value.split(',').map(str::trim).collect();
    if directives.iter().any(|d| d.eq_ignore_ascii_case("no-store")) {
        return None;
    }
    let max_age = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|secs| secs.parse().ok())
        .map(Duration::from_secs)?;
    let private = directives.iter().any(|d| d.eq_ignore_ascii_case("private"));
    Some(if private {
        Reuse::Person(max_age)
    } else {
        Reuse::Everyone(max_age)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_marked_is_read_back() {
        for reuse in [
            Reuse::Everyone(Duration::from_secs(300)),
            Reuse::Person(Duration::from_secs(30)),
        ] {
            let mut response = tonic::Response::new(());
            mark(&mut response, reuse);
            assert_eq!(reuse_of(&response), Some(reuse));
        }
    }

    #[test]
    fn no_max_age_or_no_store_is_not_reusable() {
        let with = |value: &str| {
            let mut response = tonic::Response::new(());
            response
                .metadata_mut()
                .insert("cache-control", value.parse().expect("metadata"));
            reuse_of(&response)
        };
        assert_eq!(with("private"), None);
        assert_eq!(with("no-store, max-age=30"), None);
        assert_eq!(with("max-age=soon"), None);
        assert_eq!(with("Private , max-age=5"), Some(Reuse::Person(Duration::from_secs(5))));
        assert_eq!(reuse_of(&tonic::Response::new(())), None);
    }
}
