"""Writes geo-test-city.mmdb: a tiny GeoIP2-City-shaped database over the documentation ranges
(RFC 5737), for tests of sign-in locations and risk. Regenerate with:
    pip install mmdb-writer==0.2.7 netaddr && python3 make_geo_test_db.py
"""
from mmdb_writer import MMDBWriter, MmdbF64
from netaddr import IPSet

PLACES = {
    "192.0.2.0/24": ("Seattle", "Washington", "WA", "US", "United States", 47.6062, -122.3321),
    "198.51.100.0/24": ("Paris", "Ile-de-France", "IDF", "FR", "France", 48.8566, 2.3522),
    "203.0.113.0/24": ("Sydney", "New South Wales", "NSW", "AU", "Australia", -33.8688, 151.2093),
}

writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City",
                    languages=["en"], description="MyAccount test geo database")
for network, (city, region, region_code, country, country_name, lat, lon) in PLACES.items():
    writer.insert_network(IPSet([network]), {
        "city": {"names": {"en": city}},
        "subdivisions": [{"iso_code": region_code, "names": {"en": region}}],
        "country": {"iso_code": country, "names": {"en": country_name}},
        "location": {"latitude": MmdbF64(lat), "longitude": MmdbF64(lon)},
    })
writer.to_db_file("geo-test-city.mmdb")
