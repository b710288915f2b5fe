"""The domain: pure Python rules of the field. No SQL, no HTTP, no files."""
