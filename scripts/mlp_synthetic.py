"""A 784-256-10 MLP trained on a synthetic 60,000-sample classification set (MNIST-sized), for benchmarks.

The classes are 10 random prototype vectors plus noise, so the model has something to learn; batches come from
a shuffling DataLoader over a TensorDataset. Prints loss every 100 steps and the final training accuracy.
"""

import argparse

try:
    import torch
except ImportError:
    import tcli as torch

nn, F = torch.nn, torch.nn.functional
TensorDataset, DataLoader = torch.utils.data.TensorDataset, torch.utils.data.DataLoader

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--samples", type=int, default=60000)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
args = parser.parse_args()

torch.manual_seed(0)
prototypes = torch.randn(10, 784)
labels = torch.randint(0, 10, (args.samples,))
images = prototypes[labels] + 2.0 * torch.randn(args.samples, 784)
loader = DataLoader(TensorDataset(images, labels), batch_size=args.batch_size, shuffle=True)

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
if args.optimizer == "sgd":
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
else:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

step = 0
for epoch in range(args.epochs):
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        step += 1
        if step % 100 == 0:
            print(f"epoch {epoch}  step {step:5d}  loss {loss.item():.4f}")

with torch.no_grad():
    accuracy = (model(images).argmax(1) == labels).float().mean().item()
print(f"training accuracy after {args.epochs} epoch(s): {accuracy:.1%}")
