//! What audit adds to a sign-in event besides browser and operating system (platform's
//! `user_agent`): client app, and location from a MaxMind database when one is configured.

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::domain::{ClientApp, Location};

#[derive(Debug, thiserror::Error)]
#[error("cannot open geo database {path}: {message}")]
pub struct GeoError {
    pub path: String,
    pub message: String,
}

/// City-level IP geolocation from a GeoIP2/GeoLite2-City-shaped database.
pub struct GeoLocator {
    reader: maxminddb::Reader<Vec<u8>>,
}

#[derive(Deserialize, Default)]
struct Names {
    #[serde(default)]
    names: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    iso_code: Option<String>,
}

#[derive(Deserialize, Default)]
struct Coordinates {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize, Default)]
struct CityRecord {
    #[serde(default)]
    city: Names,
    #[serde(default)]
    subdivisions: Vec<Names>,
    #[serde(default)]
    country: Names,
    #[serde(default)]
    location: Coordinates,
}

impl GeoLocator {
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| GeoError {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Self { reader })
    }

    /// The location of `ip`, or `None` when the address is not in the database.
    pub fn locate(&self, ip: &str) -> Option<Location> {
        let ip: IpAddr = ip.parse().ok()?;
        let record: CityRecord = self.reader.lookup(ip).ok()?.decode().ok()??;
        let english = |n: &Names| n.names.get("en").cloned().unwrap_or_default();
        Some(Location {
            city: english(&record.city),
            region: record.subdivisions.first().map(english).unwrap_or_default(),
            country: record.country.iso_code.clone().unwrap_or_default().to_uppercase(),
            latitude: record.location.latitude,
            longitude: record.location.longitude,
        })
        .filter(|l| !l.country.is_empty() || !l.city.is_empty())
    }
}

/// App passwords and non-browser clients are told apart by the method and the user agent.
pub fn client_app(authentication_methods: &[String], method: &str, browser: &str) -> ClientApp {
    if method == "app_password" || authentication_methods.iter().any(|m| m == "app_password") {
        ClientApp::AppPassword
    } else if !browser.is_empty() {
        ClientApp::Browser
    } else {
        ClientApp::MobileDesktop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_addresses_in_the_test_database() {
        let geo = GeoLocator::open(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/geo-test-city.mmdb"
        )))
        .unwrap();
        let paris = geo.locate("198.51.100.20").unwrap();
        assert_eq!((paris.city.as_str(), paris.country.as_str()), ("Paris", "FR"));
        assert_eq!(paris.region, "Ile-de-France");
        assert!(paris.latitude.is_some());
        assert_eq!(geo.locate("10.0.0.1"), None);
        assert_eq!(geo.locate("not an ip"), None);
    }
}
