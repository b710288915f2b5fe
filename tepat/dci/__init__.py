"""The DCI Social Registry interface (SPDCI ``social_api_v1.0.0``), served under ``/dci`` (see docs/dci.md)."""
