"""The MNIST-1D CNN seed under evoprompt's training protocol, in Python PyTorch
(Debian's python3-torch, the same libtorch as the C++ build).

It is the anchor of bench/run.sh, and the reference that the C++ trainer
reproduces: with the same seed and one thread, `evoprompt seeds --only cnn`
draws the same initial weights and batches and takes the same steps.

  python_train_loop.py DATA_DIR --steps N            throughput, one thread
  python_train_loop.py DATA_DIR --full --seed S      the whole protocol, accuracy
  python_train_loop.py DATA_DIR --full --device cuda the same on a GPU (scripts/gpu-check.sh)
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv1d(1, 25, 5, stride=2, padding=1)
        self.conv2 = torch.nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.linear = torch.nn.Linear(125, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x.unsqueeze(1)))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        return self.linear(x.flatten(1))


def flax_init(model):
    """Flax defaults: truncated LeCun-normal kernels, zero biases (runtime/model.cpp)."""
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear)):
            std = math.sqrt(1.0 / m.weight[0].numel()) / 0.87962566103423978
            with torch.no_grad():
                torch.nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std)
                torch.nn.init.zeros_(m.bias)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).double().mean().item()
    model.train()
    return acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--steps", type=int, help="default: 8000 with --full, else 2000")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", choices=["flax", "torch"], default="flax")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x = torch.tensor(np.load(f"{args.data}/x.npy"), dtype=torch.float32)
    y = torch.tensor(np.load(f"{args.data}/y.npy"))
    perm = np.random.RandomState(42).permutation(len(y))
    val, train = np.sort(perm[:500]), np.sort(perm[500:])
    x_train, y_train, x_val, y_val = x[train], y[train], x[val], y[val]
    x_test = torch.tensor(np.load(f"{args.data}/x_test.npy"), dtype=torch.float32)
    y_test = torch.tensor(np.load(f"{args.data}/y_test.npy"))

    wall0 = time.perf_counter()  # as the C++ trainer's wall_s: from the data on its device
    x_train, y_train, x_val, y_val = x_train.to(device), y_train.to(device), x_val.to(device), y_val.to(device)
    x_test, y_test = x_test.to(device), y_test.to(device)
    model = CNN()
    if args.init == "flax":
        flax_init(model)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=1e-4)
    steps = args.steps or (8000 if args.full else 2000)
    batch, cursor, order = 128, len(y_train), None
    best_val, test_at_best, train_s = -1.0, 0.0, 0.0
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        if cursor + batch > len(y_train):
            order, cursor = torch.randperm(len(y_train)), 0
        idx = order[cursor:cursor + batch].to(device)
        cursor += batch
        opt.zero_grad()
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        loss.backward()
        opt.step()
        if args.full and (step % args.eval_every == 0 or step == steps):
            train_s += time.perf_counter() - t0
            val_acc = accuracy(model, x_val, y_val)
            if val_acc > best_val:
                best_val, test_at_best = val_acc, accuracy(model, x_test, y_test)
            t0 = time.perf_counter()
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_s += time.perf_counter() - t0
    out = {"impl": "python", "steps": steps, "steps_per_s": steps / train_s,
           "wall_s": time.perf_counter() - wall0, "device": str(device)}
    if args.full:
        out.update(best_val_acc=best_val, test_acc=test_at_best, final_train_loss=loss.item())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
