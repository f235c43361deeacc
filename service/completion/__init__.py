"""Completion (结业): the rule per class, who meets it, low-attendance warnings, certificates (结业证书)."""
