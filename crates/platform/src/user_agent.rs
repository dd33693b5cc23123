//! Browser and operating system from a user agent (woothee), named one way everywhere: the
//! sessions page, the sign-in log and a registered device all say "iOS" and "Windows" for the
//! same phone and laptop, with the version apart ("17.1", "10").

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use woothee::parser::Parser;
use woothee::woothee::VALUE_UNKNOWN;

/// How many distinct user agents a process remembers the description of. A person's sessions
/// and sign-ins repeat a handful of them, so a page of 25 sessions parses almost none; past
/// this many the memory starts over rather than growing with whatever clients send.
const REMEMBERED_USER_AGENTS: usize = 4_096;

static DESCRIBED: LazyLock<Mutex<HashMap<String, ClientDescription>>> = LazyLock::new(Mutex::default);

/// What a user agent says about the client; empty strings where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientDescription {
    pub browser: String,
    pub browser_version: String,
    /// The system's name without its version: `Windows`, `macOS`, `iOS`, `iPadOS`, `Android`.
    pub operating_system: String,
    /// The system's own version: `10` for Windows 10 (not the NT kernel's `10.0`), `17.1` for iOS.
    pub operating_system_version: String,
    /// woothee's category: `pc`, `smartphone`, `mobilephone`, `appliance`, `crawler`, `misc`.
    pub category: String,
}

impl ClientDescription {
    /// The description of `user_agent`, parsed once per process (woothee runs dozens of
    /// patterns over it, and the sessions and devices pages describe every session they list).
    pub fn from_user_agent(user_agent: &str) -> Self {
        if let Some(known) = DESCRIBED.lock().ok().and_then(|d| d.get(user_agent).cloned()) {
            return known;
        }
        let description = Self::parse(user_agent);
        if let Ok(mut described) = DESCRIBED.lock() {
            if described.len() >= REMEMBERED_USER_AGENTS {
                described.clear();
            }
            described.insert(user_agent.to_owned(), description.clone());
        }
        description
    }

    fn parse(user_agent: &str) -> Self {
        let Some(parsed) = Parser::new().parse(user_agent) else {
            return Self::default();
        };
        let known = |s: &str| {
            if s == VALUE_UNKNOWN {
                String::new()
            } else {
                s.to_owned()
            }
        };
        let (operating_system, operating_system_version) =
            operating_system(&known(parsed.os), &known(&parsed.os_version));
        Self {
            browser: known(parsed.name),
            browser_version: known(parsed.version),
            operating_system,
            operating_system_version,
            category: known(parsed.category),
        }
    }
}

/// woothee names some systems after the hardware ("iPhone") or with the version in the name
/// ("Windows 10", version "NT 10.0"); this gives the system's product name and its own version.
fn operating_system(name: &str, version: &str) -> (String, String) {
    let named = |name: &str, version: &str| (name.to_owned(), version.to_owned());
    match name {
        "iPhone" | "iPod" => named("iOS", version),
        "iPad" => named("iPadOS", version),
        "Mac OSX" => named("macOS", version),
        // woothee keeps the CPU architecture in front: "x86_64 14541.0.0".
        "ChromeOS" => named(name, version.rsplit(' ').next().unwrap_or_default()),
        _ => match name.strip_prefix("Windows ") {
            // "Windows Phone OS" and "Windows CE" are systems of their own, not Windows versions.
            Some(rest) if rest.starts_with("Phone") || rest == "CE" => named(name, version),
            Some("UNKNOWN Ver") => named("Windows", ""),
            Some(windows_version) => named("Windows", windows_version),
            None => named(name, version),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real user agents and what every page shows for them: (user agent, browser, system, version).
    const USER_AGENTS: &[(&str, &str, &str, &str)] = &[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "Edge",
            "Windows",
            "10",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Safari/537.36",
            "Chrome",
            "Windows",
            "10",
        ),
        (
            "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
            "Firefox",
            "Windows",
            "7",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
             Version/17.1 Mobile/15E148 Safari/604.1",
            "Safari",
            "iOS",
            "17.1",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
             Version/16.6 Mobile/15E148 Safari/604.1",
            "Safari",
            "iPadOS",
            "16.6",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) \
             Version/17.1 Safari/605.1.15",
            "Safari",
            "macOS",
            "10.15.7",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.6099.144 Mobile Safari/537.36",
            "Chrome",
            "Android",
            "14",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox",
            "Linux",
            "",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Safari/537.36",
            "Chrome",
            "ChromeOS",
            "14541.0.0",
        ),
    ];

    #[test]
    fn real_user_agents_name_their_browser_and_system_one_way() {
        for (user_agent, browser, system, version) in USER_AGENTS {
            let client = ClientDescription::from_user_agent(user_agent);
            assert_eq!(
                (
                    client.browser.as_str(),
                    client.operating_system.as_str(),
                    client.operating_system_version.as_str()
                ),
                (*browser, *system, *version),
                "{user_agent}"
            );
        }
    }

    #[test]
    fn a_phone_and_a_desktop_are_told_apart() {
        assert_eq!(
            ClientDescription::from_user_agent(USER_AGENTS[3].0).category,
            "smartphone"
        );
        assert_eq!(ClientDescription::from_user_agent(USER_AGENTS[0].0).category, "pc");
    }

    #[test]
    fn what_is_not_a_browser_says_nothing() {
        assert_eq!(ClientDescription::from_user_agent(""), ClientDescription::default());
        let demo = ClientDescription::from_user_agent("myaccount-demo");
        assert_eq!((demo.browser.as_str(), demo.operating_system.as_str()), ("", ""));
        assert_eq!(ClientDescription::from_user_agent("curl/8.5.0").operating_system, "");
    }
}
