#!/usr/bin/env bash
# Re-create the shipped weights in pretrained/. Deterministic: the same machine gives the same weights.
# Usage: bash scripts/train_pretrained.sh [python]   (about 8 minutes on a 2-core CPU)
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-python}"
"$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --epochs 60 --seed 0 --device cpu --out pretrained/mnist-mlp
"$py" -m vae_core.train --dataset fashion-mnist --arch mlp --hidden 512,256 --epochs 30 --seed 0 --device cpu --out pretrained/fashion-mlp
"$py" -m vae_core.train --dataset mnist --arch conv --conv-channels 16,32 --hidden 64 --epochs 20 --seed 0 --device cpu --out pretrained/mnist-conv
# The beta = 4 and the denoising MNIST MLPs (issue 13): 10 epochs, not 60, to fit a shared 2-core machine.
"$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --epochs 10 --beta 4 --seed 0 --device cpu --out pretrained/mnist-beta4
"$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --epochs 10 --seed 0 --device cpu --corruption gaussian --corruption-level 0.3 --out pretrained/mnist-dvae
