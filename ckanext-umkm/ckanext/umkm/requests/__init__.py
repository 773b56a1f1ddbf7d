"""Request services (Permen UMKM 8/2025 Pasal 23(3), 25-27, 32; Lampiran
III.E): one engine for data requests, account requests and data-sharing
requests. ``procedures`` holds the three procedures as the Lampiran gives
them; ``service_time`` counts their service-time standards in working days."""
