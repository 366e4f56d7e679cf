"""Recommendation from behaviour: data, models (one per module), training, bundles and real-time serving."""
