"""dists.zip: Lambda-platform wheels, a reproducible zip, its manifest and size limits."""
