#!/usr/bin/env bash
# Re-create the shipped weights in pretrained/. Deterministic: the same machine gives the same weights.
# --precision as each was trained (config.json's matmul_precision): "auto" would time this machine and may choose otherwise.
# Usage: bash scripts/train_pretrained.sh [python]   (the first three: about 8 minutes on an idle 2-core CPU; all eight: about two and a half hours on a busy one)
set -euo pipefail
cd "$(dirname "$0")/.."
py="${1:-python}"
"$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --epochs 60 --seed 0 --device cpu --precision bf16 --replace-pretrained --out pretrained/mnist-mlp
"$py" -m vae_core.train --dataset fashion-mnist --arch mlp --hidden 512,256 --epochs 30 --seed 0 --device cpu --precision bf16 --replace-pretrained --out pretrained/fashion-mlp
"$py" -m vae_core.train --dataset mnist --arch conv --conv-channels 16,32 --hidden 64 --epochs 20 --seed 0 --device cpu --precision fp32 --replace-pretrained --out pretrained/mnist-conv
# The beta = 4 and the denoising MNIST MLPs: 10 epochs, not 60, to fit a shared 2-core machine.
"$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --epochs 10 --beta 4 --seed 0 --device cpu --precision fp32 --replace-pretrained --out pretrained/mnist-beta4
"$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --epochs 10 --seed 0 --device cpu --precision fp32 --corruption gaussian --corruption-level 0.3 --replace-pretrained --out pretrained/mnist-dvae
# Beyond two dimensions: a 16-D MNIST MLP and a 64-D Fashion-MNIST conv VAE. One CPU thread each:
# on a busy 2-core machine two threads that wait on each other ran 4-10x slower, and the thread count can
# change the rounding, so OMP_NUM_THREADS=1 is part of the recipe. About 10 and 60 minutes on a shared, busy 2-core CPU
# (the 64-D model: conv channels 32,64, a dense layer of 72, 64 latent dimensions, 30 epochs: an epoch is 469 steps,
# ~18 steps/s on a nearly idle core, 3-5 steps/s on the shared one).
OMP_NUM_THREADS=1 "$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,256 --latent-dim 16 --epochs 14 --seed 0 --device cpu --precision fp32 --replace-pretrained --out pretrained/mnist16-mlp
OMP_NUM_THREADS=1 "$py" -m vae_core.train --dataset fashion-mnist --arch conv --conv-channels 32,64 --hidden 72 --latent-dim 64 --epochs 30 --seed 0 --device cpu --precision fp32 --replace-pretrained --out pretrained/fashion64-conv
# Binarized MNIST, the papers' benchmark (Burda et al. 2016): a 50-D MLP 784-512-512-50 trained with a fresh
# binarization of every training image each epoch: 32 epochs on the ELBO (build/, not shipped), then 60 more on
# the IWAE bound with k = 5 from those weights; its test NLL (k = 5000) is measured by bench/binarized_nll.py.
OMP_NUM_THREADS=1 "$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,512 --latent-dim 50 --binarize dynamic --epochs 32 --batch-size 128 --lr 2e-3 --seed 0 --device cpu --precision bf16 --out build/mnist50-elbo
OMP_NUM_THREADS=1 "$py" -m vae_core.train --dataset mnist --arch mlp --hidden 512,512 --latent-dim 50 --binarize dynamic --epochs 60 --batch-size 128 --lr 1e-3 --seed 0 --device cpu --precision bf16 --iwae-samples 5 --init-from build/mnist50-elbo --replace-pretrained --out pretrained/mnist50-binarized
# The seeded UMAP map of each model with d > 2, kept beside its weights (umap.safetensors, 80 kB), so the app
# opens their UMAP plane without running UMAP (minutes on a busy 2-core server).
"$py" -m vae_core.umap_plane --model pretrained/mnist16-mlp --model pretrained/fashion64-conv --model pretrained/mnist50-binarized
