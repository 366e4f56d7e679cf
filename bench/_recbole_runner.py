"""Train and evaluate RecBole SASRec on pre-split benchmark files; runs inside RecBole's own environment.

Started by ``bench/recbole_sasrec.py`` with the RecBole virtual environment's python, in a working
directory where RecBole may write ``log/``, ``log_tensorboard/`` and ``saved/``. Reads
``<data-path>/<dataset>/<dataset>.{train,valid,test}.inter`` (one row per sample, already split and
truncated) and writes a JSON result to ``--out``.

Configuration: SASRec with ``loss_type: CE`` (softmax over all items, no negative sampling),
``MAX_ITEM_LIST_LENGTH`` = ``--max-len``, full-ranking evaluation, NDCG/Hit/MRR at 5/10/20, model selection
on validation NDCG@10, CPU only; everything else is RecBole 1.2.1's default (the values used are recorded in
the result's ``config``).

Full-ranking protocol for sequential models (RecBole 1.2.1 source): ``FullSortEvalDataLoader`` builds no
history index when ``MODEL_TYPE`` is sequential (``collate_fn`` returns ``None`` for it), so
``Trainer._full_sort_batch_eval`` only sets the score of the padding item 0 to ``-inf``. The items of the
user's input sequence are NOT masked: they are ranked like every other item, and a target that repeats a
history item can be hit. Each valid/test row is ranked against all ``n_items - 1`` real items.

Wall-clock budget: RecBole has none, so :class:`BudgetTrainer` checks the elapsed training time (training
plus per-epoch validation) after each epoch's validation and stops after the first epoch whose end passes
``--budget-s``. An epoch of SASRec on full Amazon Beauty takes minutes on two CPU cores, so a check at epoch
ends can overrun the budget by up to one epoch; that is accepted. Without a budget, training runs until
RecBole's early stopping (``stopping_step`` epochs without a better validation score) or ``--epochs``.
Test metrics always come from the checkpoint with the best validation score.

Resuming (``--resume``): training to convergence on Beauty takes hours on two cores, longer than one sitting.
After every epoch the runner writes ``saved/resume.pth`` (the current model, optimizer, epoch, early-stopping
counter and best score, RecBole's own checkpoint fields) and ``saved/resume.json`` (the validation curve, the
training seconds and CPU seconds so far, the best checkpoint's file), each by writing a temporary file and renaming
it. ``--resume`` continues from them at the next epoch, so a run that was stopped loses at most the epoch in
progress; wall and CPU seconds add up over the sittings. A resumed run is not bit-identical to an uninterrupted one
(the random state of data shuffling and dropout is not restored). Without ``--resume`` any old resume files are
removed first. The ``[recbole] epoch N``
progress lines count epochs from 1; RecBole's own log lines count them from 0.

torch >= 2.6 loads with ``weights_only=True`` by default, which rejects RecBole's checkpoints (they pickle
its ``Config``); ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` restores full loading of this run's own checkpoint.

RecBole 1.2.1 turns on autograd anomaly detection process-wide when its sequential models are imported (a
module-level call in ``sine.py``); it is switched off again here because it only slows training down.
"""

from __future__ import annotations

import os

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import argparse
import json
import logging
import resource
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")
warnings.filterwarnings("ignore", message=".*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD.*")
# RecBole 1.2.1 uses pandas idioms that pandas 2.2 flags as deprecated (they still behave as intended).
warnings.filterwarnings("ignore", category=FutureWarning, module="recbole")

import torch
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.model.sequential_recommender import SASRec
from recbole.trainer import Trainer
from recbole.utils import init_logger, init_seed

# Importing recbole.model.sequential_recommender imports SINE, whose module calls
# torch.autograd.set_detect_anomaly(True) for the whole process. Anomaly mode only adds NaN checks on every
# backward output (results are bit-identical without it) but costs over a quarter of SASRec's CPU training
# time (one full Beauty epoch: 660 CPU s with it, 481 without), so it is switched back off.
torch.autograd.set_detect_anomaly(False)

TOPK = [5, 10, 20]
VALID_METRIC = "NDCG@10"
RECORDED_KEYS = (
    "n_layers", "n_heads", "hidden_size", "inner_size", "hidden_dropout_prob", "attn_dropout_prob",
    "hidden_act", "layer_norm_eps", "initializer_range", "loss_type", "MAX_ITEM_LIST_LENGTH", "learner",
    "learning_rate", "weight_decay", "train_batch_size", "eval_batch_size", "epochs", "stopping_step",
    "eval_step", "clip_grad_norm", "train_neg_sample_args", "eval_args", "metrics", "topk", "valid_metric",
    "seed", "reproducibility", "shuffle", "use_gpu", "device",
)


class BudgetReached(Exception):
    """Raised after the validation of the first epoch that ends past the budget."""


class BudgetTrainer(Trainer):
    """RecBole's Trainer plus a per-epoch validation curve and an optional wall-clock budget.

    The budget is checked once per epoch, after validation and after the best checkpoint is saved, so
    stopping there leaves the best-validation model on disk for the test evaluation.
    """

    def __init__(self, config: Config, model: SASRec, budget_s: float | None, resume_dir: Path | None = None) -> None:
        super().__init__(config, model)
        self.budget_s = budget_s
        self.valid_curve: list[float] = []
        self.epochs_run = 0
        self.train_start = 0.0
        self.cpu_start = 0.0
        self.resume_dir = resume_dir
        self.before_s = self.before_cpu_s = 0.0  # training time of earlier sittings (resumed runs)
        self.finished = False  # early stopping (or the epoch cap) ended the training

    def resume(self) -> bool:
        """Continue from ``resume_dir``'s last finished epoch, if there is one; returns whether it did."""
        ck_path, meta_path = self.resume_dir / "resume.pth", self.resume_dir / "resume.json"
        if not (ck_path.exists() and meta_path.exists()):
            return False
        meta = json.loads(meta_path.read_text())
        ck = torch.load(ck_path, map_location=self.device)
        self.model.load_state_dict(ck["state_dict"])
        self.model.load_other_parameter(ck.get("other_parameter"))
        self.optimizer.load_state_dict(ck["optimizer"])
        self.start_epoch, self.cur_step = ck["epoch"] + 1, ck["cur_step"]
        self.best_valid_score = ck["best_valid_score"]
        self.best_valid_result = meta["best_valid_result"]
        self.saved_model_file = meta["best_file"]
        self.valid_curve = list(meta["valid_curve"])
        self.epochs_run = ck["epoch"] + 1
        self.before_s, self.before_cpu_s = meta["train_s"], meta["train_cpu_s"]
        self.finished = bool(meta.get("finished"))
        print(f"[recbole] resumed after epoch {self.epochs_run} ({self.before_s:.0f} s trained so far, best "
              f"{VALID_METRIC} {self.best_valid_score:.5f})", flush=True)
        return True

    def _save_resume(self, epoch_idx: int, elapsed: float, cpu: float, finished: bool = False) -> None:
        ck_path, meta_path = self.resume_dir / "resume.pth", self.resume_dir / "resume.json"
        self._save_checkpoint(epoch_idx, verbose=False, saved_model_file=str(ck_path) + ".tmp")
        os.replace(str(ck_path) + ".tmp", ck_path)
        meta = {"epoch": epoch_idx + 1, "valid_curve": self.valid_curve, "train_s": elapsed, "train_cpu_s": cpu,
                "best_file": self.saved_model_file, "finished": finished,
                "best_valid_result": {k: float(v) for k, v in (self.best_valid_result or {}).items()}}
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, meta_path)

    def _valid_epoch(self, valid_data, show_progress: bool = False):
        score, result = super()._valid_epoch(valid_data, show_progress=show_progress)
        self.valid_curve.append(float(score))
        return score, result

    def _end_of_epoch(self, epoch_idx: int, valid_score: float) -> None:
        self.epochs_run = epoch_idx + 1
        elapsed = self.before_s + time.perf_counter() - self.train_start
        cpu = self.before_cpu_s + time.process_time() - self.cpu_start
        if self.resume_dir is not None:
            self._save_resume(epoch_idx, elapsed, cpu)
        print(f"[recbole] epoch {self.epochs_run}: valid {VALID_METRIC} {valid_score:.5f}, "
              f"best {self.best_valid_score:.5f}, {elapsed:.1f} s elapsed ({cpu:.0f} CPU s)", flush=True)
        if self.budget_s is not None and elapsed >= self.budget_s:
            raise BudgetReached

    def fit_within_budget(self, train_data, valid_data) -> tuple[float, float]:
        """Train (RecBole's ``fit``) until early stopping, the epoch cap or the budget.

        Returns (wall seconds, CPU seconds of this process over all its threads); CPU time is the less
        noisy measure on a shared machine.
        """
        self.train_start = time.perf_counter()
        self.cpu_start = time.process_time()
        if self.finished:
            print(f"[recbole] training had finished after epoch {self.epochs_run}", flush=True)
            return self.before_s, self.before_cpu_s
        try:
            self.fit(train_data, valid_data, saved=True, show_progress=False, callback_fn=self._end_of_epoch)
            if self.resume_dir is not None and self.epochs_run:
                self._save_resume(self.epochs_run - 1, self.before_s + time.perf_counter() - self.train_start,
                                  self.before_cpu_s + time.process_time() - self.cpu_start, finished=True)
        except BudgetReached:
            print(f"[recbole] budget of {self.budget_s:.0f} s reached after epoch {self.epochs_run}", flush=True)
        return (self.before_s + time.perf_counter() - self.train_start,
                self.before_cpu_s + time.process_time() - self.cpu_start)


def build_config(args: argparse.Namespace) -> Config:
    """RecBole config: the benchmark files as they are, CE loss, full ranking, defaults otherwise."""
    config_dict = {
        "data_path": args.data_path,
        "benchmark_filename": ["train", "valid", "test"],
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "load_col": {"inter": ["user_id", "item_id_list", "item_id"]},
        "alias_of_item_id": ["item_id_list"],
        "MAX_ITEM_LIST_LENGTH": args.max_len,
        "loss_type": "CE",
        "train_neg_sample_args": None,
        "eval_args": {"split": {"LS": "valid_and_test"}, "group_by": "user", "order": "TO", "mode": "full"},
        "metrics": ["NDCG", "Hit", "MRR"],
        "topk": TOPK,
        "valid_metric": VALID_METRIC,
        "seed": args.seed,
        "use_gpu": False,
        "show_progress": False,
        "checkpoint_dir": "saved",
    }
    if args.epochs is not None:
        config_dict["epochs"] = args.epochs
    return Config(model="SASRec", dataset=args.dataset, config_dict=config_dict)


def _plain_console_logging() -> None:
    """RecBole's console handler colours its lines; use plain text so the caller can parse them."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s  %(message)s", "%H:%M:%S"))


def recorded_config(config: Config) -> dict:
    """The hyper-parameters actually used, JSON-serialisable, plus the torch threads and anomaly mode."""
    used = {key: _jsonable(config[key]) for key in RECORDED_KEYS}
    used.update(torch_threads=torch.get_num_threads(), detect_anomaly=torch.is_anomaly_enabled())
    return used


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def run(args: argparse.Namespace) -> dict:
    """Load the split, train with the budget, test the best-validation checkpoint; returns the result."""
    config = build_config(args)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    _plain_console_logging()
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    rows = {"train": len(train_data._dataset), "valid": len(valid_data._dataset),
            "test": len(test_data._dataset),
            "items": dataset.item_num, "users": dataset.user_num,
            "max_input_len": int(dataset.field2seqlen["item_id_list"])}
    print(f"[recbole] loaded {json.dumps(rows)}", flush=True)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = SASRec(config, train_data._dataset).to(config["device"])
    resume_dir = Path(config["checkpoint_dir"]).resolve()
    resume_dir.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        for name in ("resume.pth", "resume.json"):
            (resume_dir / name).unlink(missing_ok=True)
    trainer = BudgetTrainer(config, model, args.budget_s, resume_dir)
    if args.resume:
        trainer.resume()
    train_s, train_cpu_s = trainer.fit_within_budget(train_data, valid_data)
    test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    print(f"[recbole] test {dict(test)}", flush=True)
    return {
        "test": {key: float(value) for key, value in test.items()},
        "best_valid_ndcg@10": float(trainer.best_valid_score),
        "best_valid": {key: float(value) for key, value in (trainer.best_valid_result or {}).items()},
        "valid_curve": trainer.valid_curve,
        "epochs": trainer.epochs_run,
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "rows": rows,
        "config": recorded_config(config),
        "runner_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-path", required=True, help="folder holding <dataset>/<dataset>.*.inter")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--out", required=True, type=Path, help="JSON result file")
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-s", type=float, default=None,
                        help="stop after the first epoch that ends past this many training seconds")
    parser.add_argument("--epochs", type=int, default=None, help="epoch cap (RecBole's default: 300)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from saved/resume.pth (the last finished epoch of a stopped run)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sys.argv = sys.argv[:1]  # RecBole's Config would otherwise read "--key=value" arguments as settings
    result = run(args)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
