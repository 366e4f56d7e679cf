"""The static student's passage side, fitted to what the teacher makes of a sample of the store's own texts.

A product's student vector is a weighted mean of context-free word vectors; the teacher reads the words together.
On ESCI the student's passage side is where its loss lies: the student's query vectors searched against the
teacher's passage vectors score as well as the teacher itself, the student's own passage vectors lose 6% of dense
nDCG@10. So distillation asks the teacher for a sample of the store's product texts and fits, on the student's
passage side only (queries stay the plain word mean, matched in the same space):

* a scale per word of the sample (``exp(s_w)``, L2 on ``s``): words that carry a title weigh more, filler less;
* one linear map ``M`` (dim x dim, from the identity, L2 on ``M - I``) applied to the summed vector;

minimising ``1 - cos(student passage, teacher passage)`` with the teacher's vectors taken into the student's space
(mean and shared directions removed). The strength of the pull towards the identity is chosen without labels: on a
fifth of the sample held out, the one whose passages lie closest to the teacher's wins; the final fit uses the
whole sample. Words outside the sample keep scale 1.

A model file in the project's sense: no I/O, a config, ``fit`` returns the fitted parameters and its report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PassageFitConfig:
    map_l2: tuple[float, ...] = (1e-4, 1e-3, 1e-2)  # pulls of M towards the identity tried (held-out cosine picks)
    scale_l2: float = 0.1      # pull of the log word scales towards 0
    epochs: int = 300          # full-batch Adam steps
    lr: float = 3e-3
    holdout: float = 0.2       # share of the sample held out to choose the pull
    min_texts: int = 20        # fewer texts than this: no fit (too little to hold any out)
    seed: int = 0


@dataclass
class PassageFit:
    matrix: np.ndarray         # [dim, dim] applied to a passage's summed vector
    scales: np.ndarray         # [words] multiplier of each fitted word's weight
    report: dict


def _train(weights, rows, targets, map_l2: float, config: PassageFitConfig):
    import warnings

    import torch
    weights = weights.tocsr(copy=True)
    weights.sort_indices()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta": sparse @ dense is all we use
        w = torch.sparse_csr_tensor(torch.from_numpy(weights.indptr.astype(np.int64)),
                                    torch.from_numpy(weights.indices.astype(np.int64)),
                                    torch.from_numpy(weights.data.astype(np.float32)), size=weights.shape,
                                    check_invariants=True)
    base = torch.from_numpy(rows)
    target = torch.from_numpy(targets)
    eye = torch.eye(rows.shape[1])
    m = eye.clone().requires_grad_(True)
    s = torch.zeros(rows.shape[0], requires_grad=True)
    opt = torch.optim.Adam([m, s], lr=config.lr)
    for _ in range(config.epochs):
        out = (w @ (torch.exp(s)[:, None] * base)) @ m
        loss = ((1 - torch.nn.functional.cosine_similarity(out, target)).mean()
                + map_l2 * ((m - eye) ** 2).sum() + config.scale_l2 * (s ** 2).mean())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return m.detach().numpy().astype(np.float32), np.exp(s.detach().numpy()).astype(np.float32)


def _cosine(weights, rows, matrix, scales, targets) -> float:
    out = np.asarray(weights @ (scales[:, None] * rows)) @ matrix
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.sum(out * targets, axis=1)))


def fit(weights, rows: np.ndarray, targets: np.ndarray, config: PassageFitConfig = PassageFitConfig()) -> PassageFit:
    """``weights``: [texts, words] sparse (each text's word weights), ``rows``: [words, dim] the student's word
    vectors, ``targets``: [texts, dim] the teacher's vectors of the same texts in the student's space (unit)."""
    import torch
    torch.manual_seed(config.seed)
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    targets = np.ascontiguousarray(targets, dtype=np.float32)
    n, dim = weights.shape[0], rows.shape[1]
    identity = (np.eye(dim, dtype=np.float32), np.ones(len(rows), dtype=np.float32))
    if n < config.min_texts:
        return PassageFit(*identity, {"texts": n, "fitted": False,
                                      "reason": f"fewer than {config.min_texts} texts"})
    order = np.random.default_rng(config.seed).permutation(n)
    cut = max(1, int(n * config.holdout))
    held, train = np.sort(order[:cut]), np.sort(order[cut:])
    tried = {}
    for l2 in config.map_l2:
        matrix, scales = _train(weights[train], rows, targets[train], l2, config)
        tried[l2] = round(_cosine(weights[held], rows, matrix, scales, targets[held]), 4)
    best = max(config.map_l2, key=lambda l2: tried[l2])
    matrix, scales = _train(weights, rows, targets, best, config)
    report = {"texts": n, "fitted": True, "map_l2": best,
              "held_out_cosine": {"before": round(_cosine(weights[held], rows, *identity, targets[held]), 4),
                                  **{f"map_l2={k:g}": v for k, v in tried.items()}},
              "cosine": {"before": round(_cosine(weights, rows, *identity, targets), 4),
                         "after": round(_cosine(weights, rows, matrix, scales, targets), 4)}}
    return PassageFit(matrix, scales, report)
