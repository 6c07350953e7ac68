"""Model profiles: one vector per model, stored as .npz in the original's format (spec §2.4, §4)."""
