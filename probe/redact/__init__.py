"""Masking secrets, used by capture and by every writer alike. In: text, JSON, headers, URLs and bodies as
captured. Out: the same with every secret replaced by a short fingerprint, so equal secrets still match."""
