"""Public pages for residents: status check, usul, sanggah, pengaduan."""
