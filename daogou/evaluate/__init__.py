"""Evaluation: ranking metrics, the full-ranking and sampled-negatives protocols, and the HTML report."""
