"""Writes the two test GeoIP databases of platform::geoip over the documentation ranges
(RFC 5737, RFC 3849), one per layout the locator reads:
- geoip2-city-test.mmdb: MaxMind's GeoIP2-City layout;
- flat-city-test.mmdb: the flat layout of the ip-location-db packages (what
  deploy/scripts/ensure-geoip.sh downloads), with DB-IP's "City (District)" names.
Regenerate with:
    pip install mmdb-writer==0.2.7 netaddr && python3 make_geo_test_dbs.py
"""
from mmdb_writer import MMDBWriter, MmdbF32, MmdbF64
from netaddr import IPSet

GEOIP2_PLACES = {
    "192.0.2.0/24": ("Seattle", "Washington", "WA", "US", "United States", 47.6062, -122.3321),
    "198.51.100.0/24": ("Paris", "Ile-de-France", "IDF", "FR", "France", 48.8566, 2.3522),
    "203.0.113.0/24": ("Sydney", "New South Wales", "NSW", "AU", "Australia", -33.8688, 151.2093),
}

writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City",
                    languages=["en"], description="MyAccount test geo database")
for network, (city, region, region_code, country, country_name, lat, lon) in GEOIP2_PLACES.items():
    writer.insert_network(IPSet([network]), {
        "city": {"names": {"en": city}},
        "subdivisions": [{"iso_code": region_code, "names": {"en": region}}],
        "country": {"iso_code": country, "names": {"en": country_name}},
        "location": {"latitude": MmdbF64(lat), "longitude": MmdbF64(lon)},
    })
writer.to_db_file("geoip2-city-test.mmdb")

FLAT_PLACES = {
    "192.0.2.0/24": ("Amsterdam (Amsterdam-Centrum)", "North Holland", "NL", 52.3717, 4.8852),
    "2001:db8::/32": ("Chiyoda City", "Tokyo", "JP", 35.6916, 139.768),
}

flat = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="city",
                  description="MyAccount test geo database, ip-location-db layout")
for network, (city, state, country, lat, lon) in FLAT_PLACES.items():
    flat.insert_network(IPSet([network]), {
        "city": city, "state1": state, "state2": "", "country_code": country, "postcode": "",
        # Single precision, as DB-IP's files store them.
        "latitude": MmdbF32(lat), "longitude": MmdbF32(lon), "timezone": "",
    })
flat.to_db_file("flat-city-test.mmdb")
