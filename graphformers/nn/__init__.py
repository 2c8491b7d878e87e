"""Building blocks shared by every kind of part."""
