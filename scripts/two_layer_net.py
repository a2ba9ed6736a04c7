"""The classic two-layer network, written by hand: tensors, autograd, and a manual SGD step.

64 samples of 1000 features -> 100 hidden units (clamp as ReLU) -> 10 outputs, squared-error loss,
500 steps at lr 1e-6. Runs unchanged under PyTorch (`python two_layer_net.py`) and tcli (`tcli run`).
"""

try:
    import torch
except ImportError:  # plain `python two_layer_net.py` without PyTorch installed: use tcli
    import tcli as torch

N, D_in, H, D_out = 64, 1000, 100, 10
torch.manual_seed(0)
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)
w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)

learning_rate = 1e-6
for t in range(500):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
