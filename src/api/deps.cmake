# Remote API layer: HTTP via libcurl, SigV4 hashing via OpenSSL's libcrypto, S3 XML via pugixml.
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(pugixml REQUIRED)
target_link_libraries(accel_api PRIVATE CURL::libcurl OpenSSL::Crypto pugixml::pugixml)
