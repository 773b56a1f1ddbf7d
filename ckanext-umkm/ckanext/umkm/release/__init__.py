"""The release workflow (Permen UMKM 8/2025 Pasal 22, 24; Lampiran B, D):
states and transitions (``workflow``), the release checks (``checks``), new
versions of released records (``versions``) and e-mail notifications
(``notifications``)."""
