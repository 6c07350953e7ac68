"""The trainable profile's settings (TrainConfig) and their validation, without torch: the sweep planner and the
CLI read the defaults and check options from here; rpcli.core.profiles.trainable re-exports them."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.errors import ConfigError

SELECT = ("train-loss", "val")
CKPT_FILE = "ckpt.pt"


@dataclass
class TrainConfig:
    hidden: int = 256
    heads: int = 4
    layers: int = 2
    out_dim: int | None = None  # None: the input (encoder) dimension
    epochs: int = 100
    lr: float = 1e-4
    weight_decay: float = 1e-4
    node_mask_rate: float = 0.3
    edge_mask_rate: float = 0.3
    edge_loss_w: float = 1.0
    dropout: float = 0.1
    grad_clip: float = 1.0
    seed: int = 42
    select: str = "train-loss"


def validate_config(cfg: TrainConfig) -> None:
    if cfg.layers < 1:
        raise ConfigError(f"--layers must be >= 1, got {cfg.layers}")
    if cfg.hidden < 1 or cfg.heads < 1:
        raise ConfigError("--hidden and --heads must be positive")
    if cfg.hidden % cfg.heads:
        raise ConfigError(f"--heads ({cfg.heads}) must divide --hidden ({cfg.hidden})",
                          hint="HANConv splits the hidden width across heads; e.g. --hidden 256 --heads 4")
    if cfg.out_dim is not None and cfg.out_dim < 1:
        raise ConfigError(f"--out-dim must be positive, got {cfg.out_dim}")
    if cfg.epochs < 1:
        raise ConfigError(f"--epochs must be >= 1, got {cfg.epochs}")
    if not cfg.lr > 0:
        raise ConfigError(f"--lr must be positive, got {cfg.lr}")
    for flag, v in (("--node-mask-rate", cfg.node_mask_rate), ("--edge-mask-rate", cfg.edge_mask_rate)):
        if not 0.0 < v < 1.0:
            raise ConfigError(f"{flag} must be in (0, 1), got {v}")
    if cfg.edge_loss_w < 0:
        raise ConfigError(f"--edge-loss-w must be >= 0, got {cfg.edge_loss_w}")
    if cfg.select not in SELECT:
        raise ConfigError(f"--select must be one of {', '.join(SELECT)}, got {cfg.select!r}")


