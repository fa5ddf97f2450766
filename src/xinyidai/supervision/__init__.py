"""Supervision of the institutions that read credit data: security assessments,
confidentiality agreements, findings (NX-18, GX-5)."""
