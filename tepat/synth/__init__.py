"""Synthetic Kota Bekasi: registry, survey sample and messy files, seeded and reproducible."""
