"""The benchmark: our recipes against the references, side by side, measured, in tables."""
