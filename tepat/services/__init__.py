"""Use cases. Each public function opens the one transaction it needs and writes the audit record in it."""
