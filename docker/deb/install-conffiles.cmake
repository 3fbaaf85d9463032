# Run by CPack only (CPACK_INSTALL_SCRIPTS) while it stages the .deb, never by `cmake --install`:
# the live policy in /etc is the package's conffile, not part of an install into a prefix.
# file(INSTALL) puts DESTDIR (CPack's staging dir) in front of the absolute destination.
file(INSTALL DESTINATION /etc/cove TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${CMAKE_CURRENT_LIST_DIR}/../policy.json")
