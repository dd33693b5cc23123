//! Where the client is, as reported by a proxy in front of the gateway that looks visitors up
//! itself (a CDN's visitor location headers). Only read when the operator says such a proxy is
//! there (`GATEWAY_LOCATION_HEADERS`); anyone can send these headers, so without that proxy they
//! are lies waiting to be believed. Audit uses the report when it has no GeoIP database.

use std::str::FromStr;

use axum::http::HeaderMap;
use myaccount_proto::identity::v1::ClientLocation;

/// Which proxy sets the headers, and so their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocationHeaders {
    /// Ignore every location header.
    #[default]
    Off,
    /// Cloudflare's visitor location headers: `CF-IPCountry`, `CF-Region`, `CF-IPCity`,
    /// `CF-IPLatitude`, `CF-IPLongitude`.
    Cloudflare,
    /// `X-Client-Geo-Country`, `-Region`, `-City`, `-Latitude`, `-Longitude`, for a proxy
    /// configured to set them (an ingress with its own GeoIP module, a load balancer's custom
    /// headers).
    Generic,
}

impl FromStr for LocationHeaders {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "off" | "none" => Ok(Self::Off),
            "cloudflare" => Ok(Self::Cloudflare),
            "generic" => Ok(Self::Generic),
            other => Err(format!("{other:?} is not off, cloudflare or generic")),
        }
    }
}

struct Names {
    country: &'static str,
    region: &'static str,
    city: &'static str,
    latitude: &'static str,
    longitude: &'static str,
}

const CLOUDFLARE: Names = Names {
    country: "cf-ipcountry",
    region: "cf-region",
    city: "cf-ipcity",
    latitude: "cf-iplatitude",
    longitude: "cf-iplongitude",
};

const GENERIC: Names = Names {
    country: "x-client-geo-country",
    region: "x-client-geo-region",
    city: "x-client-geo-city",
    latitude: "x-client-geo-latitude",
    longitude: "x-client-geo-longitude",
};

/// Longest region or city name kept; longer values are not names.
const MAX_NAME_CHARS: usize = 128;

impl LocationHeaders {
    /// The location in `headers`, each part checked: a part that is not plausible is left out,
    /// and `None` when nothing is left.
    pub fn read(self, headers: &HeaderMap) -> Option<ClientLocation> {
        let names = match self {
            Self::Off => return None,
            Self::Cloudflare => &CLOUDFLARE,
            Self::Generic => &GENERIC,
        };
        // UTF-8, not only visible ASCII: place names are sent as they are written.
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .map(str::trim)
                .unwrap_or_default()
        };
        let location = ClientLocation {
            country: country(text(names.country)),
            region: place_name(text(names.region)),
            city: place_name(text(names.city)),
            latitude: None,
            longitude: None,
        };
        let coordinates = coordinate(text(names.latitude), 90.0).zip(coordinate(text(names.longitude), 180.0));
        let location = ClientLocation {
            latitude: coordinates.map(|(lat, _)| lat),
            longitude: coordinates.map(|(_, lon)| lon),
            ..location
        };
        let empty = location.country.is_empty()
            && location.region.is_empty()
            && location.city.is_empty()
            && location.latitude.is_none();
        (!empty).then_some(location)
    }
}

/// Two letters, upper case; `XX` (unknown) and `T1` (Tor) say nothing about a place.
fn country(value: &str) -> String {
    let upper = value.to_ascii_uppercase();
    let is_code = upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase());
    if is_code && upper != "XX" { upper } else { String::new() }
}

fn place_name(value: &str) -> String {
    let plausible =
        !value.is_empty() && value.chars().count() <= MAX_NAME_CHARS && !value.chars().any(char::is_control);
    if plausible { value.to_owned() } else { String::new() }
}

fn coordinate(value: &str, bound: f64) -> Option<f64> {
    value.parse::<f64>().ok().filter(|v| v.is_finite() && v.abs() <= bound)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_bytes(value.as_bytes()).expect("header"));
        }
        headers
    }

    #[test]
    fn cloudflare_headers_give_the_visitor_location() {
        let location = LocationHeaders::Cloudflare
            .read(&headers(&[
                ("cf-ipcountry", "fr"),
                ("cf-region", "Île-de-France"),
                ("cf-ipcity", "Paris"),
                ("cf-iplatitude", "48.85660"),
                ("cf-iplongitude", "2.35220"),
            ]))
            .expect("a location");
        assert_eq!(location.country, "FR");
        assert_eq!(location.region, "Île-de-France");
        assert_eq!(location.city, "Paris");
        assert_eq!(location.latitude, Some(48.8566));
        assert_eq!(location.longitude, Some(2.3522));
    }

    #[test]
    fn nothing_is_read_unless_a_proxy_is_trusted() {
        let sent = headers(&[("cf-ipcountry", "FR"), ("x-client-geo-country", "FR")]);
        assert_eq!(LocationHeaders::Off.read(&sent), None);
        assert_eq!(LocationHeaders::Generic.read(&headers(&[("cf-ipcountry", "FR")])), None);
        assert_eq!(
            LocationHeaders::Generic.read(&sent).map(|l| l.country),
            Some("FR".into())
        );
    }

    #[test]
    fn implausible_parts_are_dropped() {
        let location = LocationHeaders::Generic
            .read(&headers(&[
                ("x-client-geo-country", "France"),
                ("x-client-geo-city", "Lyon"),
                ("x-client-geo-latitude", "123.4"),
                ("x-client-geo-longitude", "4.8"),
            ]))
            .expect("the city is plausible");
        assert_eq!(location.country, "");
        assert_eq!(location.city, "Lyon");
        assert_eq!((location.latitude, location.longitude), (None, None), "both or neither");
        for unknown in ["XX", "T1", "1A", ""] {
            let mut sent = HeaderMap::new();
            sent.insert("cf-ipcountry", HeaderValue::from_str(unknown).expect("header"));
            assert_eq!(LocationHeaders::Cloudflare.read(&sent), None, "{unknown}");
        }
        assert!("CloudFlare".parse::<LocationHeaders>().is_ok());
        assert!("maxmind".parse::<LocationHeaders>().is_err());
    }
}
