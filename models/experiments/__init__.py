"""Research experiments that rebuild PhenoFace's claims from its own scripts (see `synthetic_vs_real`)."""
