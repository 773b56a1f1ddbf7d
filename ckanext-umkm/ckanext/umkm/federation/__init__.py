"""Federation with the national Satu Data Indonesia portal and regional portals
(Permen UMKM 8/2025 Pasal 20(3), 24(4) and 29): what the national harvester
receives, the DCAT profile, the code lists as linked data, and harvesting of
regional CKAN and DCAT portals."""
