"""Analysis and fusion: sandboxed SQL across datasets, region codes, derived datasets."""
