"""Evaluation of trained models: the full-ranking and sampled-negatives protocols, saved bundles on the store's split,
and the HTML report. Ranking metrics themselves live in :mod:`daogou.ranking_metrics` (training validates with them)."""
