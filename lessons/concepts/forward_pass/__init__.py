"""Inside one forward pass: from a prompt to the next token (compute.py, figures.py)."""
