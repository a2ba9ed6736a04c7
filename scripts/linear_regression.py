"""Linear regression with nn.Linear, MSELoss and SGD, recovering known weights from noisy data."""

try:
    import torch
except ImportError:
    import tcli as torch
nn = torch.nn

torch.manual_seed(0)
true_w = torch.tensor([[2.0, -3.4, 1.5]])
true_b = 4.2
x = torch.randn(1000, 3)
y = x @ true_w.T + true_b + 0.01 * torch.randn(1000, 1)

model = nn.Linear(3, 1)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

for epoch in range(200):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.6f}")

learned = [round(v, 3) for v in model.weight.detach().flatten().tolist()]
print("learned weight:", learned, "true:", true_w.flatten().tolist())
print("learned bias:  ", round(model.bias.item(), 3), "true:", true_b)
