"""Iris classification: a custom Dataset, a shuffling DataLoader, an MLP, CrossEntropyLoss and Adam.

The Iris table ships with tcli (`tcli.datasets.load_iris`), so this needs no scikit-learn or download.
Prints the held-out accuracy; it reaches 95% or more.
"""

try:
    import torch
except ImportError:
    import tcli as torch
from tcli.datasets import load_iris

nn = torch.nn
Dataset, DataLoader = torch.utils.data.Dataset, torch.utils.data.DataLoader


class IrisDataset(Dataset):
    def __init__(self, rows, labels):
        self.X = rows
        self.y = labels

    def __len__(self):
        return len(self.X)

    def __getitem__(self, idx):
        X = torch.tensor(self.X[idx], dtype=torch.float)
        y = torch.tensor(self.y[idx], dtype=torch.long)
        return X, y


torch.manual_seed(0)
iris = load_iris()
rows, labels = iris.data.tolist(), iris.target.tolist()
order = torch.randperm(len(rows)).tolist()
mean = [sum(r[j] for r in rows) / len(rows) for j in range(4)]
std = [(sum((r[j] - mean[j]) ** 2 for r in rows) / len(rows)) ** 0.5 for j in range(4)]
rows = [[(r[j] - mean[j]) / std[j] for j in range(4)] for r in rows]
train_idx, test_idx = order[:120], order[120:]
train = IrisDataset([rows[i] for i in train_idx], [labels[i] for i in train_idx])
test = IrisDataset([rows[i] for i in test_idx], [labels[i] for i in test_idx])

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loader = DataLoader(train, batch_size=16, shuffle=True)

for epoch in range(60):
    for X, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
    if epoch % 20 == 19:
        print(f"epoch {epoch + 1:3d}  loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    X, y = next(iter(DataLoader(test, batch_size=len(test))))
    accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
print(f"held-out accuracy: {accuracy:.1%} on {len(test)} flowers ({', '.join(iris.target_names)})")
